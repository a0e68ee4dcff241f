import Foundation
import TridentKernels

extension AttentionTraining {
    /// Gradients of `forward` for one sequence, from its saved `output` and `logSumExp`.
    ///
    /// With `P[t,h,p] = exp(s − lse)`, `s = scale · q·k[p]`, `D[t,h] = dO·O`,
    /// `dS = P · (dO·v[p] − D)`: `dq = scale · Σ_p dS · k[p]`, `dk[p] = scale · Σ dS · q`,
    /// `dv[p] = Σ P · dO`, the last two summed over every query head that reads the KV head
    /// (so a KV head shared by several query heads, or duplicated on two ranks, gets each
    /// head's contribution; the layer all-reduces duplicated heads across ranks).
    ///
    /// With dropout (mask factor `f` ∈ {0, 1/(1−p)}): the output used `P·f`, so `dv` gets `P·f·dO`
    /// and `dS = P · (f · dO·v[p] − D)`; `D = dO·O` still holds.
    ///
    /// Two race-free passes over the pool (no atomics, deterministic): one per `(t, h)` for
    /// `dq`, one per `(kvHead, position)` for `dk`/`dv`; probabilities are recomputed in each.
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
        let heads = layout.heads, d = layout.headDim
        let kvStride = layout.kvHeads * d
        let scale = 1 / Float(d).squareRoot()
        let positions = startPosition + tokens
        let deltas = UnsafeMutablePointer<Float>.allocate(capacity: max(tokens * heads, 1))  // [tokens, heads]
        defer { deltas.deallocate() }
        layout.kvHeadForHead.withUnsafeBufferPointer { table in
            pool.parallelFor(tokens * heads) { item in
                let t = item / heads, h = item % heads
                let dO = dOut + item * d
                let delta = dotProduct(dO, output + item * d, d)
                deltas[item] = delta
                let q = queries + item * d, lse = logSumExp[item]
                let k = keys + table[h] * d, v = values + table[h] * d
                let g = dq + item * d
                g.update(repeating: 0, count: d)
                for p in 0...(startPosition + t) {
                    let probability = expf(dotProduct(q, k + p * kvStride, d) * scale - lse)
                    let keep = dropout.factor(t: t, h: h, p: p, positions: positions)
                    let dS = probability * (keep * dotProduct(dO, v + p * kvStride, d) - delta)
                    addScaled(scale * dS, k + p * kvStride, g, d)
                }
            }
            pool.parallelFor(layout.kvHeads * positions) { item in
                let j = item / positions, p = item % positions
                let k = keys + p * kvStride + j * d, v = values + p * kvStride + j * d
                let gk = dk + p * kvStride + j * d, gv = dv + p * kvStride + j * d
                gk.update(repeating: 0, count: d)
                gv.update(repeating: 0, count: d)
                for h in 0..<heads where table[h] == j {
                    for t in max(0, p - startPosition)..<tokens {
                        let row = t * heads + h
                        let q = queries + row * d, dO = dOut + row * d
                        let probability = expf(dotProduct(q, k, d) * scale - logSumExp[row])
                        let keep = dropout.factor(t: t, h: h, p: p, positions: positions)
                        let dS = probability * (keep * dotProduct(dO, v, d) - deltas[row])
                        addScaled(scale * dS, q, gk, d)
                        addScaled(probability * keep, dO, gv, d)
                    }
                }
            }
        }
    }
}
