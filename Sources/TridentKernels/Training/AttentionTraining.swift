import Foundation

/// Causal grouped-query attention for training: the forward of `Attention.causal` (same
/// layout, same `AttentionLayout.kvHeadForHead` mapping, scale `1/sqrt(headDim)`) that also
/// saves the log-sum-exp of every score row, and its backward.
///
/// Per query head the forward is two matrix products on `BlockedProduct` (`S = Q_h K_jᵀ`,
/// `O_h = P V_j`) around a row softmax; scratch `[tokens, positions]` plus `[headDim, positions]`.
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
        if tokens == 0 { return }
        let d = layout.headDim, positions = startPosition + tokens
        let kvStride = layout.kvHeads * d, rowStride = layout.heads * d
        let probabilities = UnsafeMutablePointer<Float>.allocate(capacity: tokens * positions)   // [tokens, positions]
        let keysT = UnsafeMutablePointer<Float>.allocate(capacity: d * positions)               // [headDim, positions]
        defer { probabilities.deallocate(); keysT.deallocate() }
        for j in 0..<layout.kvHeads {
            let heads = (0..<layout.heads).filter { layout.kvHeadForHead[$0] == j }
            if heads.isEmpty { continue }
            for p in 0..<positions { for c in 0..<d { keysT[c * positions + p] = keys[p * kvStride + j * d + c] } }
            for h in heads {
                let q = StridedMatrix(base: queries + h * d, rowStride: rowStride, columnStride: 1)
                BlockedProduct.multiply(a: q, b: keysT, ldb: positions, c: probabilities, ldc: positions,
                                        m: tokens, n: positions, k: d, accumulate: false, pool: pool)   // S = Q Kᵀ
                pool.parallelFor(tokens) { t in
                    logSumExp[t * layout.heads + h] = softmaxRow(probabilities + t * positions, t: t, h: h,
                                                                 startPosition: startPosition, positions: positions,
                                                                 scale: 1 / Float(d).squareRoot(), dropout: dropout)
                }
                let pMatrix = StridedMatrix(base: probabilities, rowStride: positions, columnStride: 1)
                BlockedProduct.multiply(a: pMatrix, b: values + j * d, ldb: kvStride, c: output + h * d, ldc: rowStride,
                                        m: tokens, n: d, k: positions, accumulate: false, pool: pool)   // O = P V
            }
        }
    }

    /// Row `t` of one head: scaled scores → causal softmax (zeros past `startPosition + t`),
    /// times the dropout factors; returns the log-sum-exp of the scaled scores.
    @inline(__always)
    static func softmaxRow(_ row: UnsafeMutablePointer<Float>, t: Int, h: Int, startPosition: Int, positions: Int,
                           scale: Float, dropout: AttentionDropout?) -> Float {
        let length = startPosition + t + 1
        let maximum = maximumValue(row, length) * scale
        var sum: Float = 0
        for p in 0..<length {
            row[p] = expf(row[p] * scale - maximum)
            sum += row[p]
        }
        let inverse = 1 / sum
        for p in 0..<length { row[p] *= inverse * dropout.factor(t: t, h: h, p: p, positions: positions) }
        for p in length..<positions { row[p] = 0 }
        return maximum + logf(sum)
    }
}
