import CTridentQ8

/// Float32 weights of row-group matrices for the prefill loops, a whole group at a time: each
/// tile's 32 columns are expanded as 16-row vectors (as in the decode loops), scaled, and
/// stored straight into the 12-row packed panels (`[columns][12]`, `PackedRows`) that the
/// register micro-kernels broadcast from.
enum RowGroupDequantize {
    /// Rows of one packed panel.
    static let panelRows = 12

    /// Writes rows `first ..< first + count` (whole groups) of `w` as panels of 12 rows:
    /// panel `t` at `out + t * 12 * w.columns`, element (row `r`, column `c`) at `c * 12 + r`.
    /// Rows past `count` in the last panel are zero.
    static func panels(_ w: WeightMatrix, first: Int, count: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(w.layout == .rowGroups && first % RowGroups.rows == 0 && count % RowGroups.rows == 0,
                     "row-group dequantization of rows \(first)..<\(first + count), not whole groups")
        let panels = (count + panelRows - 1) / panelRows
        if count % panelRows != 0 {
            (out + (panels - 1) * panelRows * w.columns).update(repeating: 0, count: panelRows * w.columns)
        }
        switch w.dtype {
        case .q4_1: fill(Q41Tile.self, w, first, count, out)
        case .q4_0: fill(Q40Tile.self, w, first, count, out)
        case .q8_0: fill(Q80Tile.self, w, first, count, out)
        default: preconditionFailure("no row-group loops for \(w.dtype)")
        }
    }

    /// Where lanes `lane ..< lane + count` of a group land: panel `panel`, from row `row`.
    struct Segment {
        let lane: Int, count: Int, panel: Int, row: Int
    }

    /// The one or two panel segments of group `g` (rows `16g ..< 16g + 16` of the item).
    static func segments(group g: Int) -> [Segment] {
        var segments: [Segment] = []
        var lane = 0
        while lane < RowGroups.rows {
            let row = g * RowGroups.rows + lane
            let count = min(RowGroups.rows - lane, panelRows - row % panelRows)
            segments.append(Segment(lane: lane, count: count, panel: row / panelRows, row: row % panelRows))
            lane += count
        }
        return segments
    }

    private static func fill<T: RowGroupTile>(_ tile: T.Type, _ w: WeightMatrix, _ first: Int, _ count: Int,
                                              _ out: UnsafeMutablePointer<Float>) {
        let blocks = w.columns / 32, panelFloats = panelRows * w.columns
        for g in 0..<(count / RowGroups.rows) {
            let group = w.base + (first / RowGroups.rows + g) * w.rowStride
            let parts = segments(group: g)
            for b in 0..<blocks {
                let tile = group + b * T.tileBytes
                let d = trident_halves16(tile.assumingMemoryBound(to: UInt16.self))
                let m = T.hasMinimum ? trident_halves16((tile + 32).assumingMemoryBound(to: UInt16.self)) : V16()
                for p in 0..<16 {
                    let (lo, hi) = T.pair(tile, p)
                    let low = m.addingProduct(lo, d), high = m.addingProduct(hi, d)
                    for s in parts {
                        let base = out + s.panel * panelFloats + s.row
                        trident_store_lanes16(base + (32 * b + p) * panelRows, low, Int32(s.lane), Int32(s.count))
                        trident_store_lanes16(base + (32 * b + p + 16) * panelRows, high, Int32(s.lane), Int32(s.count))
                    }
                }
            }
        }
    }
}
