import CTridentQ8

/// The prefill path of `matmul` for Q8_0 weights with 8-bit activations (tokens > 1): each
/// block of up to 128 tokens is quantized once (in parallel), then row tiles are multiplied
/// with integer dot products. On `avx512VNNI` a work item packs 4 rows at a time (quants
/// biased to unsigned, scales expanded to lanes) and runs a 4-row × 2-token register tile;
/// the other paths run their decode row loops once per token.
enum Q8Matmul {
    /// Tokens quantized and multiplied per pass over the weights (as `MatmulTiled.tokenBlock`).
    static let tokenBlock = 128
    /// Weight rows per work item of the packed path (a multiple of 4).
    static let itemRows = 16

    /// - Parameters: `input` `[tokens, columns]` (row stride `inputStride`), `output`
    ///   `[tokens, rows]` (row stride `outputStride`), `weight` Q8_0 `[rows, columns]`.
    static func run(weight: WeightMatrix, input: UnsafePointer<Float>, inputStride: Int,
                    output: UnsafeMutablePointer<Float>, outputStride: Int, tokens: Int,
                    pool: ThreadPool, path: Q8DotPath) {
        precondition(weight.dtype == .q8_0, "Q8Matmul needs q8_0 weights, not \(weight.dtype)")
        let blocks = weight.columns / 32
        Q8Activations.withBuffers(tokens: min(tokenBlock, tokens), blocks: blocks) { x in
            var first = 0
            while first < tokens {
                let count = min(tokenBlock, tokens - first)
                let rowsIn = input + first * inputStride
                pool.parallelChunks(count) { range in
                    for t in range { x.quantize(rowsIn + t * inputStride, token: t) }
                }
                multiply(weight, x, tokens: count, output + first * outputStride, outputStride, pool: pool, path: path)
                first += count
            }
        }
    }

    /// `out[t * outStride + r]` for every row and the `tokens` quantized tokens of `x`.
    static func multiply(_ w: WeightMatrix, _ x: Q8Activations, tokens: Int, _ out: UnsafeMutablePointer<Float>,
                         _ outStride: Int, pool: ThreadPool, path: Q8DotPath) {
        guard path == .avx512VNNI else {
            pool.parallelChunks(w.rows, granularity: 8) { range in
                for t in 0..<tokens { q8Rows(w, range, x.token(t), out + t * outStride, path: path) }
            }
            return
        }
        let blocks = x.blocks
        let base = w.base.assumingMemoryBound(to: UInt8.self)
        let items = (w.rows + itemRows - 1) / itemRows
        pool.parallelFor(items) { item in
            withUnsafeTemporaryAllocation(byteCount: 4 * blocks * 64, alignment: 64) { raw in
                let packedScale = raw.baseAddress!.bindMemory(to: Float.self, capacity: 4 * blocks * 8)
                let packed = (raw.baseAddress! + 4 * blocks * 32).bindMemory(to: UInt8.self, capacity: 4 * blocks * 32)
                var r = item * itemRows
                let end = min(w.rows, r + itemRows)
                while r < end {
                    let rowCount = min(4, end - r)
                    trident_q8_0_pack4(base, w.rowStride, r, r + rowCount, blocks, packed, packedScale)
                    trident_q8_0_tile4_avx512vnni(packed, packedScale, rowCount, x.quants, x.scales, x.corrections,
                                                  tokens, blocks, out + r, outStride)
                    r += 4
                }
            }
        }
    }
}
