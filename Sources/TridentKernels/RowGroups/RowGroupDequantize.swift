import CTridentQ8

/// Float32 rows of row-group matrices for the prefill loops, a whole group at a time: each
/// tile's 32 columns are expanded as 16-row vectors (as in the decode loops), scaled, and
/// transposed 16 × 16 into rows.
enum RowGroupDequantize {
    /// Writes rows `first ..< first + count` (whole groups) of `w` into `out`, row `i` at
    /// `out + i * outStride` (`w.columns` floats each).
    static func rows(_ w: WeightMatrix, first: Int, count: Int, into out: UnsafeMutablePointer<Float>, outStride: Int) {
        precondition(w.layout == .rowGroups && first % RowGroups.rows == 0 && count % RowGroups.rows == 0,
                     "row-group dequantization of rows \(first)..<\(first + count), not whole groups")
        switch w.dtype {
        case .q4_1: rows(Q41Tile.self, w, first, count, out, outStride)
        case .q4_0: rows(Q40Tile.self, w, first, count, out, outStride)
        case .q8_0: rows(Q80Tile.self, w, first, count, out, outStride)
        default: preconditionFailure("no row-group loops for \(w.dtype)")
        }
    }

    private static func rows<T: RowGroupTile>(_ tile: T.Type, _ w: WeightMatrix, _ first: Int, _ count: Int,
                                              _ out: UnsafeMutablePointer<Float>, _ outStride: Int) {
        let blocks = w.columns / 32
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 32 * RowGroups.rows) { buffer in
            let columnMajor = buffer.baseAddress!   // [32 columns][16 rows]
            for g in 0..<(count / RowGroups.rows) {
                let group = w.base + (first / RowGroups.rows + g) * w.rowStride
                let rowsOut = out + g * RowGroups.rows * outStride
                for b in 0..<blocks {
                    expand(tile, group + b * T.tileBytes, into: columnMajor)
                    MatmulPanels.transpose16(columnMajor, 16, rowsOut + 32 * b, outStride)
                    MatmulPanels.transpose16(columnMajor + 16 * 16, 16, rowsOut + 32 * b + 16, outStride)
                }
            }
        }
    }

    /// The tile's 32 columns × 16 rows as floats, column `c` at `out + 16 * c`.
    @inline(__always)
    private static func expand<T: RowGroupTile>(_: T.Type, _ tile: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>) {
        let d = trident_halves16(tile.assumingMemoryBound(to: UInt16.self))
        let m = T.hasMinimum ? trident_halves16((tile + 32).assumingMemoryBound(to: UInt16.self)) : V16()
        for p in 0..<16 {
            let (lo, hi) = T.pair(tile, p)
            store16(m.addingProduct(lo, d), out + 16 * p)
            store16(m.addingProduct(hi, d), out + 16 * (p + 16))
        }
    }
}
