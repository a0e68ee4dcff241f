import Foundation

/// Backward of `VectorKernels.rope` (adjacent pairs, angle `positions[t] · base^(−2i/headDim)`
/// computed in Double, as the forward). The rotation is orthogonal, so the gradient is the
/// inverse rotation (angle negated): `(da, db) = (g0·cos + g1·sin, −g0·sin + g1·cos)`.
public enum RopeBackward {
    /// In place on `gradient` `[tokens, heads, headDim]` (the gradient w.r.t. the rotated
    /// output becomes the gradient w.r.t. the input); `positions` `[tokens]`.
    public static func backward(_ gradient: UnsafeMutablePointer<Float>, tokens: Int, heads: Int, headDim: Int,
                                positions: UnsafePointer<Int>, base: Float) {
        precondition(headDim % 2 == 0, "rope needs an even headDim, got \(headDim)")
        let half = headDim / 2
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * max(half, 1)) { table in
            let cosines = table.baseAddress!
            let sines = cosines + half
            for t in 0..<tokens {
                let position = Double(positions[t])
                for i in 0..<half {
                    let angle = position * pow(Double(base), -2 * Double(i) / Double(headDim))
                    cosines[i] = Float(cos(angle))
                    sines[i] = Float(sin(angle))
                }
                for h in 0..<heads {
                    let v = gradient + (t * heads + h) * headDim
                    for i in 0..<half {
                        let a = v[2 * i], b = v[2 * i + 1]
                        v[2 * i] = a * cosines[i] + b * sines[i]
                        v[2 * i + 1] = -a * sines[i] + b * cosines[i]
                    }
                }
            }
        }
    }
}
