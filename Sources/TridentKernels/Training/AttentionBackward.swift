import Foundation

extension AttentionTraining {
    /// Gradients of `forward` for one sequence, from its saved `output` and `logSumExp`.
    ///
    /// With `P[t,p] = exp(s − lse)`, `s = scale · q·k[p]`, `D[t] = dO·O`,
    /// `dS = P · (dO·v[p] − D)`: `dq = scale · Σ_p dS · k[p]`, `dk[p] = scale · Σ dS · q`,
    /// `dv[p] = Σ P · dO`, the last two summed over every query head that reads the KV head
    /// (so a KV head shared by several query heads, or duplicated on two ranks, gets each
    /// head's contribution; the layer sums duplicated heads across ranks with `SharedKVHeadGradients`).
    /// With dropout (mask factor `f` ∈ {0, 1/(1−p)}): the output used `P·f`, so `dv` gets `P·f·dO`
    /// and `dS = P · (f · dO·v[p] − D)`; `D = dO·O` still holds.
    ///
    /// Per query head, as matrix products on `BlockedProduct` (deterministic, no atomics):
    /// `S = Q_h K_jᵀ`, `P` (causal rows), `dP = dO_h V_jᵀ`, `dS`, then `dQ_h = dS K_j`,
    /// `dK_j += dSᵀ Q_h`, `dV_j += Pᵀ dO_h`; heads sharing KV head `j` add in head order.
    /// Scratch: `[tokens, positions]` twice plus `[headDim, positions]` twice (f32).
    ///
    /// - Parameters:
    ///   - queries, output, outputGradient: `[tokens, heads, headDim]`; `logSumExp` `[tokens, heads]`.
    ///   - keys, values: `[positions, kvHeads, headDim]` as in the forward.
    ///   - queryGradient: `[tokens, heads, headDim]`, overwritten.
    ///   - keyGradient, valueGradient: `[positions, kvHeads, headDim]`; rows
    ///     `0 ..< startPosition + tokens` are overwritten, later rows are left alone.
    public static func backward(queries: UnsafePointer<Float>, keys: UnsafePointer<Float>,
                                values: UnsafePointer<Float>, output: UnsafePointer<Float>,
                                logSumExp: UnsafePointer<Float>, outputGradient dOut: UnsafePointer<Float>,
                                queryGradient dq: UnsafeMutablePointer<Float>,
                                keyGradient dk: UnsafeMutablePointer<Float>,
                                valueGradient dv: UnsafeMutablePointer<Float>,
                                tokens: Int, startPosition: Int = 0, layout: AttentionLayout,
                                dropout: AttentionDropout? = nil, pool: ThreadPool) {
        let d = layout.headDim, positions = startPosition + tokens
        let kvStride = layout.kvHeads * d
        for p in 0..<positions {
            (dk + p * kvStride).update(repeating: 0, count: kvStride)
            (dv + p * kvStride).update(repeating: 0, count: kvStride)
        }
        if tokens == 0 { return }
        let scratch = AttentionScratch(tokens: tokens, positions: positions, headDim: d)
        defer { scratch.deallocate() }
        let inputs = AttentionInputs(queries: queries, keys: keys, values: values, output: output, logSumExp: logSumExp,
                                     outputGradient: dOut, tokens: tokens, startPosition: startPosition, layout: layout)
        for j in 0..<layout.kvHeads {
            let heads = (0..<layout.heads).filter { layout.kvHeadForHead[$0] == j }
            if heads.isEmpty { continue }
            transpose(keys + j * d, rows: positions, columns: d, stride: kvStride, into: scratch.keysT)
            transpose(values + j * d, rows: positions, columns: d, stride: kvStride, into: scratch.valuesT)
            for h in heads {
                headBackward(h, kvHead: j, inputs, scratch, dropout: dropout,
                             dq: dq, dk: dk + j * d, dv: dv + j * d, pool: pool)
            }
        }
    }

    /// One query head: scores, probabilities, `dS`, then its three gradient products.
    private static func headBackward(_ h: Int, kvHead j: Int, _ x: AttentionInputs, _ s: AttentionScratch,
                                     dropout: AttentionDropout?, dq: UnsafeMutablePointer<Float>,
                                     dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let d = x.layout.headDim, heads = x.layout.heads, positions = x.startPosition + x.tokens
        let rowStride = heads * d, kvStride = x.layout.kvHeads * d
        let q = StridedMatrix(base: x.queries + h * d, rowStride: rowStride, columnStride: 1)        // [tokens, d]
        let dO = StridedMatrix(base: x.outputGradient + h * d, rowStride: rowStride, columnStride: 1)
        BlockedProduct.multiply(a: q, b: s.keysT, ldb: positions, c: s.probabilities, ldc: positions,
                                m: x.tokens, n: positions, k: d, accumulate: false, pool: pool)      // S = Q Kᵀ
        BlockedProduct.multiply(a: dO, b: s.valuesT, ldb: positions, c: s.scores, ldc: positions,
                                m: x.tokens, n: positions, k: d, accumulate: false, pool: pool)      // dP = dO Vᵀ
        pool.parallelFor(x.tokens) { t in
            scoreGradientRow(t, h, x, s, dropout: dropout)
        }
        let dS = StridedMatrix(base: s.scores, rowStride: positions, columnStride: 1)                // [tokens, positions]
        BlockedProduct.multiply(a: dS, b: x.keys + j * d, ldb: kvStride, c: dq + h * d, ldc: rowStride,
                                m: x.tokens, n: d, k: positions, accumulate: false, pool: pool)     // dQ = dS K
        let dST = StridedMatrix(base: s.scores, rowStride: 1, columnStride: positions)               // [positions, tokens]
        BlockedProduct.multiply(a: dST, b: x.queries + h * d, ldb: rowStride, c: dk, ldc: kvStride,
                                m: positions, n: d, k: x.tokens, accumulate: true, pool: pool)      // dK += dSᵀ Q
        let pT = StridedMatrix(base: s.probabilities, rowStride: 1, columnStride: positions)
        BlockedProduct.multiply(a: pT, b: x.outputGradient + h * d, ldb: rowStride, c: dv, ldc: kvStride,
                                m: positions, n: d, k: x.tokens, accumulate: true, pool: pool)      // dV += Pᵀ dO
    }

    /// Row `t`: scores → probabilities (0 past the causal limit), `dP` → `scale · dS`, and
    /// the probabilities → `P · f` (the dropped ones `dV` uses).
    @inline(__always)
    private static func scoreGradientRow(_ t: Int, _ h: Int, _ x: AttentionInputs, _ s: AttentionScratch,
                                         dropout: AttentionDropout?) {
        let d = x.layout.headDim, positions = x.startPosition + x.tokens
        let scale = 1 / Float(d).squareRoot()
        let item = t * x.layout.heads + h
        let delta = dotProduct(x.outputGradient + item * d, x.output + item * d, d)
        let probabilities = s.probabilities + t * positions, gradient = s.scores + t * positions
        let length = x.startPosition + t + 1
        scaledExponentials(probabilities, length, multiplier: scale, shift: x.logSumExp[item])
        for p in 0..<length {
            let keep = dropout.factor(t: t, h: h, p: p, positions: positions)
            gradient[p] = scale * probabilities[p] * (keep * gradient[p] - delta)
            probabilities[p] *= keep
        }
        for p in length..<positions {
            probabilities[p] = 0
            gradient[p] = 0
        }
    }

    /// `x[i] = exp(x[i] · multiplier − shift)` in place.
    @inline(__always)
    private static func scaledExponentials(_ x: UnsafeMutablePointer<Float>, _ count: Int, multiplier: Float, shift: Float) {
        let m = V16(repeating: multiplier), s = V16(repeating: shift)
        var i = 0
        while i + 16 <= count {
            store16(exp16(load16(x + i) * m - s), x + i)
            i += 16
        }
        while i < count {
            x[i] = expf(x[i] * multiplier - shift)
            i += 1
        }
    }

    /// `out[c, r] = source[r · stride + c]`: `[rows, columns]` (row stride `stride`) → `[columns, rows]`.
    private static func transpose(_ source: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int,
                                  into out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            for c in 0..<columns { out[c * rows + r] = source[r * stride + c] }
        }
    }
}

/// The read-only inputs of one sequence's attention backward.
private struct AttentionInputs {
    let queries, keys, values, output, logSumExp, outputGradient: UnsafePointer<Float>
    let tokens: Int, startPosition: Int
    let layout: AttentionLayout
}

/// Scratch of one attention backward call.
private struct AttentionScratch {
    let probabilities: UnsafeMutablePointer<Float>   // [tokens, positions]
    let scores: UnsafeMutablePointer<Float>          // [tokens, positions]: dP, then scale · dS
    let keysT: UnsafeMutablePointer<Float>           // [headDim, positions]
    let valuesT: UnsafeMutablePointer<Float>         // [headDim, positions]

    init(tokens: Int, positions: Int, headDim: Int) {
        probabilities = .allocate(capacity: tokens * positions)
        scores = .allocate(capacity: tokens * positions)
        keysT = .allocate(capacity: headDim * positions)
        valuesT = .allocate(capacity: headDim * positions)
    }

    func deallocate() {
        probabilities.deallocate()
        scores.deallocate()
        keysT.deallocate()
        valuesT.deallocate()
    }
}
