/// Keeps the memory behind one or more `WeightMatrix` views alive (an mmap'd file, or an
/// owned allocation). Views hold a reference to their owner.
public protocol WeightStorageOwner: AnyObject, Sendable {}

/// How the rows of a `WeightMatrix` are laid out in memory.
public enum WeightLayout: Sendable, Equatable {
    /// Row `r` starts at `base + r * rowStride` (GGUF's layout).
    case rows
    /// Groups of `RowGroups.rows` (16) rows, interleaved block by block for the 16-lane decode
    /// loops (`RowGroups` describes the tiles): group `g` starts at `base + g * rowStride`, and
    /// block column `b` of the group at `b * RowGroups.rows * dtype.bytesPerBlock` bytes into it.
    case rowGroups
}

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
    /// Bytes between the starts of consecutive rows (`.rows`), or of consecutive groups
    /// of 16 rows (`.rowGroups`).
    public let rowStride: Int
    /// `.rows` (GGUF order) unless repacked by `packedInRowGroups()`.
    public let layout: WeightLayout
    /// Keeps `base` valid; `nil` when the caller guarantees the lifetime.
    public let owner: (any WeightStorageOwner)?

    public init(base: UnsafeRawPointer, rows: Int, columns: Int, dtype: DType,
                rowStride: Int? = nil, layout: WeightLayout = .rows, owner: (any WeightStorageOwner)?) {
        precondition(rows >= 0 && columns >= 0)
        precondition(columns % dtype.blockSize == 0,
                     "\(columns) columns is not a whole number of \(dtype) blocks")
        self.base = base
        self.rows = rows
        self.columns = columns
        self.dtype = dtype
        self.layout = layout
        if layout == .rowGroups {
            precondition(rows % RowGroups.rows == 0, "\(rows) rows is not a whole number of row groups")
        }
        self.rowStride = rowStride ?? dtype.rowBytes(columns) * (layout == .rows ? 1 : RowGroups.rows)
        self.owner = owner
    }

    /// Pointer to the first byte of row `r` (`.rows` layout only).
    @inline(__always)
    public func rowPointer(_ r: Int) -> UnsafeRawPointer {
        assert(layout == .rows, "rowPointer on a row-group matrix")
        return base + r * rowStride
    }

    /// The rows `range` of this matrix, as a view (whole groups of 16 for `.rowGroups`).
    public func rows(_ range: Range<Int>) -> WeightMatrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows)
        if layout == .rowGroups {
            precondition(range.lowerBound % RowGroups.rows == 0 && range.upperBound % RowGroups.rows == 0,
                         "row slice \(range) does not fall on row-group boundaries")
            return WeightMatrix(base: base + range.lowerBound / RowGroups.rows * rowStride, rows: range.count,
                                columns: columns, dtype: dtype, rowStride: rowStride, layout: layout, owner: owner)
        }
        return WeightMatrix(base: base + range.lowerBound * rowStride, rows: range.count,
                            columns: columns, dtype: dtype, rowStride: rowStride, owner: owner)
    }

    /// The columns `range` of this matrix, as a view; both bounds must be multiples of
    /// `dtype.blockSize`.
    public func columns(_ range: Range<Int>) -> WeightMatrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= columns)
        precondition(range.lowerBound % dtype.blockSize == 0 && range.upperBound % dtype.blockSize == 0,
                     "column slice \(range) does not fall on \(dtype) block boundaries")
        let groupRows = layout == .rows ? 1 : RowGroups.rows
        let offset = range.lowerBound / dtype.blockSize * dtype.bytesPerBlock * groupRows
        return WeightMatrix(base: base + offset, rows: rows, columns: range.count, dtype: dtype,
                            rowStride: rowStride, layout: layout, owner: owner)
    }

    /// Total bytes this view covers (rows × row bytes, not counting stride gaps).
    public var byteCount: Int { rows * dtype.rowBytes(columns) }
}
