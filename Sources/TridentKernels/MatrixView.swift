/// A `[rows, columns]` float32 matrix in memory owned elsewhere (a scratch buffer, a KV cache
/// slot, an array): row `r` starts at `base + r * stride`. Layers pass activations as views so
/// that a decode step allocates nothing.
public struct MatrixView {
    public let base: UnsafeMutablePointer<Float>
    public let rows: Int
    public let columns: Int
    /// Floats between the starts of consecutive rows (`columns` when contiguous).
    public let stride: Int

    @inline(__always)
    public init(_ base: UnsafeMutablePointer<Float>, rows: Int, columns: Int, stride: Int? = nil) {
        self.base = base
        self.rows = rows
        self.columns = columns
        self.stride = stride ?? columns
    }

    /// Whether the rows follow each other with no gap.
    public var isContiguous: Bool { stride == columns || rows <= 1 }
    /// `rows * columns`.
    public var count: Int { rows * columns }

    /// Pointer to the first element of row `r`.
    @inline(__always)
    public func row(_ r: Int) -> UnsafeMutablePointer<Float> { base + r * stride }

    /// Rows `range`, as a view of the same memory.
    @inline(__always)
    public func rows(_ range: Range<Int>) -> MatrixView {
        MatrixView(base + range.lowerBound * stride, rows: range.count, columns: columns, stride: stride)
    }

    /// The whole (contiguous) view as one buffer of `count` floats.
    public var buffer: UnsafeMutableBufferPointer<Float> {
        precondition(isContiguous, "a strided view is not one buffer")
        return UnsafeMutableBufferPointer(start: base, count: count)
    }

    /// `self += other`, element-wise (a residual connection). Both `[rows, columns]`, contiguous.
    @inline(__always)
    public func add(_ other: MatrixView) {
        precondition(other.rows == rows && other.columns == columns && isContiguous && other.isContiguous)
        VectorKernels.add(base, other.base, out: base, count: count)
    }

    /// Copies the values out, row-major (tests and results that leave the hot path).
    public func toArray() -> [Float] {
        var out = [Float]()
        out.reserveCapacity(count)
        for r in 0 ..< rows { out += UnsafeBufferPointer(start: row(r), count: columns) }
        return out
    }
}
