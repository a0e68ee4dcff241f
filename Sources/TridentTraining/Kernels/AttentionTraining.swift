import Foundation
import TridentKernels

/// Causal grouped-query attention for training: the forward of `Attention.causal` (same
/// layout, same `AttentionLayout.kvHeadForHead` mapping, scale `1/sqrt(headDim)`) that also
/// saves the log-sum-exp of every score row, and its backward.
///
/// One call covers one sequence: query `t` sits at position `startPosition + t` and attends
/// to key positions `0 ... startPosition + t`. A micro-batch of several sequences is one
/// call per sequence (pointers offset by `sequence * tokens * width`).
public enum AttentionTraining {
    /// - Parameters:
    ///   - queries: `[tokens, heads, headDim]` (RoPE applied).
    ///   - keys, values: `[positions, kvHeads, headDim]`, `positions >= startPosition + tokens`.
    ///   - output: `[tokens, heads, headDim]`, must not alias the inputs.
    ///   - logSumExp: `[tokens, heads]`: `log Σ_p exp(score[p])` of the scaled scores, saved for backward.
    ///   - dropout: optional dropout on the probabilities (pass the same value to `backward`).
    public static func forward(queries: UnsafePointer<Float>, keys: UnsafePointer<Float>,
                               values: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                               logSumExp: UnsafeMutablePointer<Float>, tokens: Int, startPosition: Int = 0,
                               layout: AttentionLayout, dropout: AttentionDropout? = nil, pool: ThreadPool) {
        precondition(tokens >= 0 && startPosition >= 0)
        let heads = layout.heads, headDim = layout.headDim
        let kvStride = layout.kvHeads * headDim
        let scale = 1 / Float(headDim).squareRoot()
        layout.kvHeadForHead.withUnsafeBufferPointer { table in
            pool.parallelFor(tokens * heads) { item in
                let t = item / heads, h = item % heads
                let length = startPosition + t + 1
                let q = queries + item * headDim
                let k = keys + table[h] * headDim, v = values + table[h] * headDim
                let out = output + item * headDim
                withUnsafeTemporaryAllocation(of: Float.self, capacity: length) { buffer in
                    let scores = buffer.baseAddress!
                    var maximum = -Float.infinity
                    for p in 0..<length {
                        scores[p] = dotProduct(q, k + p * kvStride, headDim) * scale
                        maximum = max(maximum, scores[p])
                    }
                    var sum: Float = 0
                    for p in 0..<length {
                        scores[p] = expf(scores[p] - maximum)
                        sum += scores[p]
                    }
                    out.update(repeating: 0, count: headDim)
                    let inverse = 1 / sum
                    for p in 0..<length {
                        let keep = dropout.factor(t: t, h: h, p: p, positions: startPosition + tokens)
                        if keep != 0 { addScaled(scores[p] * inverse * keep, v + p * kvStride, out, headDim) }
                    }
                    logSumExp[item] = maximum + logf(sum)
                }
            }
        }
    }
}
