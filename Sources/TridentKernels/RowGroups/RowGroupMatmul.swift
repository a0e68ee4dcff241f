/// Products of row-group matrices (`WeightLayout.rowGroups`) with one or a few tokens.
enum RowGroupMatmul {
    /// Rows `range` (whole groups) of `w · x` into `out[range]`.
    /// - Parameters: `x` `[w.columns]`, `sums` `[w.columns / 32]` block sums of `x`.
    static func rows(_ w: WeightMatrix, _ range: Range<Int>, _ x: UnsafePointer<Float>,
                     _ sums: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        precondition(range.lowerBound % RowGroups.rows == 0 && range.upperBound % RowGroups.rows == 0,
                     "row-group product over \(range), not whole groups")
        switch w.dtype {
        case .q4_1: rows(Q41Tile.self, w, range, x, sums, out)
        case .q4_0: rows(Q40Tile.self, w, range, x, sums, out)
        case .q8_0: rows(Q80Tile.self, w, range, x, sums, out)
        default: preconditionFailure("no row-group loops for \(w.dtype)")
        }
    }

    @inline(__always)
    private static func rows<T: RowGroupTile>(_ tile: T.Type, _ w: WeightMatrix, _ range: Range<Int>,
                                              _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>,
                                              _ out: UnsafeMutablePointer<Float>) {
        let blocks = w.columns / 32
        for g in (range.lowerBound / RowGroups.rows)..<(range.upperBound / RowGroups.rows) {
            store16(RowGroupDot.one(tile, w.base + g * w.rowStride, blocks, x, sums), out + g * RowGroups.rows)
        }
    }

    /// `output[t, r] = Σ_c w[r, c] · input[t, c]` for `tokens` ≥ 1, four tokens per pass over
    /// the weights; groups are split over `pool`.
    /// - Parameters: `input` `[tokens, w.columns]` (row stride `inputStride`), `output`
    ///   `[tokens, w.rows]` (row stride `outputStride`).
    static func run(weight w: WeightMatrix, input: UnsafePointer<Float>, inputStride: Int,
                    output: UnsafeMutablePointer<Float>, outputStride: Int, tokens: Int, pool: ThreadPool) {
        let blocks = w.columns / 32
        let passes = (tokens + 3) / 4
        // Block sums of every token, four tokens (the last padded with copies) per pass.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: passes * 4 * blocks) { buffer in
            let sums = buffer.baseAddress!
            for slot in 0..<(passes * 4) {
                RowDot.blockSums(input + min(slot, tokens - 1) * inputStride, blocks, into: sums + slot * blocks)
            }
            let groups = w.rows / RowGroups.rows
            pool.parallelChunks(groups) { range in
                for g in range {
                    let group = w.base + g * w.rowStride
                    for pass in 0..<passes {
                        let first = pass * 4
                        func x(_ t: Int) -> UnsafePointer<Float> { input + min(first + t, tokens - 1) * inputStride }
                        let passSums = UnsafePointer(sums + first * blocks)
                        let results: (V16, V16, V16, V16)
                        switch w.dtype {
                        case .q4_1: results = RowGroupDot.four(Q41Tile.self, group, blocks, x(0), x(1), x(2), x(3), passSums)
                        case .q4_0: results = RowGroupDot.four(Q40Tile.self, group, blocks, x(0), x(1), x(2), x(3), passSums)
                        default: results = RowGroupDot.four(Q80Tile.self, group, blocks, x(0), x(1), x(2), x(3), passSums)
                        }
                        let column = g * RowGroups.rows
                        store16(results.0, output + first * outputStride + column)
                        if first + 1 < tokens { store16(results.1, output + (first + 1) * outputStride + column) }
                        if first + 2 < tokens { store16(results.2, output + (first + 2) * outputStride + column) }
                        if first + 3 < tokens { store16(results.3, output + (first + 3) * outputStride + column) }
                    }
                }
            }
        }
    }
}
