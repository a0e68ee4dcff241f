import TridentKernels

/// An owned `[rows, columns]` float32 activation of a training forward or backward. Saved
/// contexts keep the buffers their backward reads alive; they are freed with the context, and
/// their memory is recycled for the next buffer of the same size (`RecycledMemory`).
public final class ActivationBuffer: @unchecked Sendable {
    public let rows: Int
    public let columns: Int
    public let base: UnsafeMutablePointer<Float>

    /// Zero-filled when `zeroed`, else uninitialised memory to be overwritten.
    public init(rows: Int, columns: Int, zeroed: Bool = false) {
        precondition(rows >= 0 && columns >= 0)
        self.rows = rows
        self.columns = columns
        base = RecycledMemory.take(max(rows * columns, 1))
        if zeroed { base.initialize(repeating: 0, count: max(rows * columns, 1)) }
    }

    /// A copy of `values` (`rows * columns` of them).
    public convenience init(rows: Int, columns: Int, values: [Float]) {
        precondition(values.count == rows * columns)
        self.init(rows: rows, columns: columns)
        values.withUnsafeBufferPointer { base.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { RecycledMemory.give(base, max(rows * columns, 1)) }

    /// `rows * columns`.
    public var count: Int { rows * columns }
    /// A contiguous view of the whole buffer.
    public var view: MatrixView { MatrixView(base, rows: rows, columns: columns) }
    /// The whole buffer.
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: base, count: count) }
    /// Pointer to row `r`.
    public func row(_ r: Int) -> UnsafeMutablePointer<Float> { base + r * columns }
    /// A copy with the same shape.
    public func copy() -> ActivationBuffer {
        let out = ActivationBuffer(rows: rows, columns: columns)
        out.base.update(from: base, count: count)
        return out
    }
    /// The values, row-major (tests).
    public func toArray() -> [Float] { Array(UnsafeBufferPointer(start: base, count: count)) }
}
