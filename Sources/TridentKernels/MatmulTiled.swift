/// The prefill path of `matmul` (tokens > 1): each work item dequantizes a tile of weight
/// rows to float32 once and reuses it for every token, with a 4-row × 2-token register
/// micro-kernel (8 accumulators, 6 loads per 8 FMAs).
enum MatmulTiled {
    /// Weight rows per work item (dequantized tile: `tileRows * columns` floats).
    static let tileRows = 16

    /// Tokens multiplied per pass over the weights: their inputs (`tokenBlock * columns`
    /// floats, 295 KB for SmolLM2's 576 columns) stay in cache while every weight tile streams
    /// past. With thousands of tokens at once (many prompts fused into one pass) the inputs
    /// would otherwise be re-read from memory for every tile.
    static let tokenBlock = 128

    static func run(weight: WeightMatrix, input: UnsafePointer<Float>, inputStride: Int,
                    output: UnsafeMutablePointer<Float>, outputStride: Int, tokens: Int, pool: ThreadPool) {
        var first = 0
        while first < tokens {
            let count = min(tokenBlock, tokens - first)
            runBlock(weight: weight, input: input + first * inputStride, inputStride: inputStride,
                     output: output + first * outputStride, outputStride: outputStride, tokens: count, pool: pool)
            first += count
        }
    }

    private static func runBlock(weight: WeightMatrix, input: UnsafePointer<Float>, inputStride: Int,
                                 output: UnsafeMutablePointer<Float>, outputStride: Int, tokens: Int, pool: ThreadPool) {
        let columns = weight.columns
        let tiles = (weight.rows + tileRows - 1) / tileRows
        pool.parallelFor(tiles) { tile in
            let rows = (tile * tileRows)..<min(weight.rows, (tile + 1) * tileRows)
            withUnsafeTemporaryAllocation(of: Float.self, capacity: tileRows * columns) { buffer in
                let w = buffer.baseAddress!
                for (i, r) in rows.enumerated() { weight.dequantizeRow(r, into: w + i * columns) }
                multiplyTile(w, rowCount: rows.count, firstRow: rows.lowerBound, columns: columns,
                             input: input, inputStride: inputStride, output: output,
                             outputStride: outputStride, tokens: tokens)
            }
        }
    }

    /// output[t, firstRow + i] = w[i, :] · input[t, :] for i < rowCount, t < tokens.
    static func multiplyTile(_ w: UnsafePointer<Float>, rowCount: Int, firstRow: Int, columns: Int,
                             input: UnsafePointer<Float>, inputStride: Int,
                             output: UnsafeMutablePointer<Float>, outputStride: Int, tokens: Int) {
        var t = 0
        while t < tokens {
            let pair = t + 1 < tokens
            let x0 = input + t * inputStride
            let x1 = pair ? x0 + inputStride : x0
            let o0 = output + t * outputStride + firstRow
            let o1 = pair ? o0 + outputStride : o0
            var i = 0
            while i + 4 <= rowCount {
                let s = dot4x2(w + i * columns, columns, x0, x1)
                o0[i] = s.0; o0[i + 1] = s.1; o0[i + 2] = s.2; o0[i + 3] = s.3
                if pair { o1[i] = s.4; o1[i + 1] = s.5; o1[i + 2] = s.6; o1[i + 3] = s.7 }
                i += 4
            }
            while i < rowCount {
                o0[i] = RowDot.f32(w + i * columns, x0, columns)
                if pair { o1[i] = RowDot.f32(w + i * columns, x1, columns) }
                i += 1
            }
            t += 2
        }
    }

    /// Dots of 4 consecutive rows (stride `n`) with two vectors: (r0x0, r1x0, r2x0, r3x0,
    /// r0x1, r1x1, r2x1, r3x1).
    @inline(__always)
    static func dot4x2(_ w: UnsafePointer<Float>, _ n: Int, _ x0: UnsafePointer<Float>,
                       _ x1: UnsafePointer<Float>)
        -> (Float, Float, Float, Float, Float, Float, Float, Float) {
        var a00 = F8(), a10 = F8(), a20 = F8(), a30 = F8()
        var a01 = F8(), a11 = F8(), a21 = F8(), a31 = F8()
        var c = 0
        while c + 8 <= n {
            let v0 = load8(x0 + c), v1 = load8(x1 + c)
            let w0 = load8(w + c), w1 = load8(w + n + c)
            let w2 = load8(w + 2 * n + c), w3 = load8(w + 3 * n + c)
            a00 = fma8(w0, v0, a00); a01 = fma8(w0, v1, a01)
            a10 = fma8(w1, v0, a10); a11 = fma8(w1, v1, a11)
            a20 = fma8(w2, v0, a20); a21 = fma8(w2, v1, a21)
            a30 = fma8(w3, v0, a30); a31 = fma8(w3, v1, a31)
            c += 8
        }
        var s = (hsum8(a00), hsum8(a10), hsum8(a20), hsum8(a30),
                 hsum8(a01), hsum8(a11), hsum8(a21), hsum8(a31))
        while c < n {
            s.0 += w[c] * x0[c]; s.1 += w[n + c] * x0[c]
            s.2 += w[2 * n + c] * x0[c]; s.3 += w[3 * n + c] * x0[c]
            s.4 += w[c] * x1[c]; s.5 += w[n + c] * x1[c]
            s.6 += w[2 * n + c] * x1[c]; s.7 += w[3 * n + c] * x1[c]
            c += 1
        }
        return s
    }
}
