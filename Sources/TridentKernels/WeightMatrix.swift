/// Keeps the memory behind one or more `WeightMatrix` views alive (an mmap'd file, or an
/// owned allocation). Views hold a reference to their owner.
public protocol WeightStorageOwner: AnyObject, Sendable {}

/// A row-major `[rows, columns]` matrix in any `DType`, viewed in place (no copy).
///
/// Row `r` starts at `base + r * rowStride` bytes and holds `columns` elements
/// (`dtype.rowBytes(columns)` bytes). A GGUF tensor with `ne = [n_in, n_out]` is such a
/// matrix with `rows = n_out`, `columns = n_in`, and `y = W x`.
/// Slicing columns at block boundaries keeps `rowStride`, so a column slice of a
/// quantized matrix is still a view.
public struct WeightMatrix: @unchecked Sendable {
    public let base: UnsafeRawPointer
    public let rows: Int
    public let columns: Int
    public let dtype: DType
    /// Bytes between the starts of consecutive rows.
    public let rowStride: Int
    /// Keeps `base` valid; `nil` when the caller guarantees the lifetime.
    public let owner: (any WeightStorageOwner)?

    public init(base: UnsafeRawPointer, rows: Int, columns: Int, dtype: DType,
                rowStride: Int? = nil, owner: (any WeightStorageOwner)?) {
        precondition(rows >= 0 && columns >= 0)
        precondition(columns % dtype.blockSize == 0,
                     "\(columns) columns is not a whole number of \(dtype) blocks")
        self.base = base
        self.rows = rows
        self.columns = columns
        self.dtype = dtype
        self.rowStride = rowStride ?? dtype.rowBytes(columns)
        self.owner = owner
    }

    /// Pointer to the first byte of row `r`.
    @inline(__always)
    public func rowPointer(_ r: Int) -> UnsafeRawPointer { base + r * rowStride }

    /// The rows `range` of this matrix, as a view.
    public func rows(_ range: Range<Int>) -> WeightMatrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows)
        return WeightMatrix(base: base + range.lowerBound * rowStride, rows: range.count,
                            columns: columns, dtype: dtype, rowStride: rowStride, owner: owner)
    }

    /// The columns `range` of this matrix, as a view; both bounds must be multiples of
    /// `dtype.blockSize`.
    public func columns(_ range: Range<Int>) -> WeightMatrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= columns)
        precondition(range.lowerBound % dtype.blockSize == 0 && range.upperBound % dtype.blockSize == 0,
                     "column slice \(range) does not fall on \(dtype) block boundaries")
        let offset = range.lowerBound / dtype.blockSize * dtype.bytesPerBlock
        return WeightMatrix(base: base + offset, rows: rows, columns: range.count, dtype: dtype,
                            rowStride: rowStride, owner: owner)
    }

    /// Total bytes this view covers (rows × row bytes, not counting stride gaps).
    public var byteCount: Int { rows * dtype.rowBytes(columns) }
}
