import Foundation

extension AttentionTraining {
    /// Naive Double reference for `backward` (same shapes; recomputes the forward). Returns
    /// `dq` `[tokens, heads, headDim]` and `dk`, `dv` `[startPosition + tokens, kvHeads, headDim]`.
    /// Slow; for tests.
    public static func backwardReference(queries q: [Float], keys k: [Float], values v: [Float], outputGradient dO: [Float],
                                         tokens: Int, startPosition: Int = 0, layout: AttentionLayout)
        -> (dq: [Double], dk: [Double], dv: [Double]) {
        let d = layout.headDim, heads = layout.heads, kvStride = layout.kvHeads * d
        let scale = 1 / Double(d).squareRoot()
        var dq = [Double](repeating: 0, count: tokens * heads * d)
        var dk = [Double](repeating: 0, count: (startPosition + tokens) * kvStride), dv = dk
        for t in 0..<tokens {
            for h in 0..<heads {
                let row = (t * heads + h) * d, kv = layout.kvHeadForHead[h] * d
                let length = startPosition + t + 1
                let scores = (0..<length).map { p in (0..<d).reduce(0.0) { $0 + Double(q[row + $1]) * Double(k[p * kvStride + kv + $1]) } * scale }
                let m = scores.max()!
                let z = scores.reduce(0) { $0 + exp($1 - m) }
                let probabilities = scores.map { exp($0 - m) / z }
                let dP = (0..<length).map { p in (0..<d).reduce(0.0) { $0 + Double(dO[row + $1]) * Double(v[p * kvStride + kv + $1]) } }
                let delta = zip(probabilities, dP).reduce(0.0) { $0 + $1.0 * $1.1 }
                for p in 0..<length {
                    let dS = probabilities[p] * (dP[p] - delta)
                    for i in 0..<d {
                        dq[row + i] += scale * dS * Double(k[p * kvStride + kv + i])
                        dk[p * kvStride + kv + i] += scale * dS * Double(q[row + i])
                        dv[p * kvStride + kv + i] += probabilities[p] * Double(dO[row + i])
                    }
                }
            }
        }
        return (dq, dk, dv)
    }
}
