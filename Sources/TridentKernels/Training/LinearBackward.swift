
/// Backward of a linear layer `y = x · Wᵀ + b` with the forward kernels' layout:
/// `W` is `[outFeatures, inFeatures]` row-major, `x` is `[tokens, inFeatures]`,
/// `y` and `dy` are `[tokens, outFeatures]`, all f32.
///
/// These products are most of a training step's FLOPs; they run on `BlockedProduct`
/// (packed panels, 12×32 or 6×16 register tiles, split over the pool). Sums are deterministic
/// (each output element is owned by one thread and summed in a fixed order).
public enum LinearBackward {
    /// Input gradient `dx = dy · W`: `dx` `[tokens, inFeatures]` is overwritten, or added to
    /// when `accumulate` (e.g. the Q, K and V projections all feed the same `dx`).
    public static func inputGradient(outputGradient dy: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                     inputGradient dx: UnsafeMutablePointer<Float>,
                                     tokens: Int, inFeatures: Int, outFeatures: Int,
                                     accumulate: Bool = false, pool: ThreadPool) {
        precondition(tokens >= 0 && inFeatures >= 0 && outFeatures >= 0, "linear backward: negative size")
        let a = StridedMatrix(base: dy, rowStride: outFeatures, columnStride: 1)  // [tokens, out]
        BlockedProduct.multiply(a: a, b: weight, ldb: inFeatures, c: dx, ldc: inFeatures,
                                m: tokens, n: inFeatures, k: outFeatures, accumulate: accumulate, pool: pool)
    }

    /// Weight gradient `dW += dyᵀ · x`: `dW` `[outFeatures, inFeatures]` is accumulated into
    /// (zero it once per optimizer step; micro-batches then sum).
    public static func weightGradient(outputGradient dy: UnsafePointer<Float>, input x: UnsafePointer<Float>,
                                      weightGradient dW: UnsafeMutablePointer<Float>,
                                      tokens: Int, inFeatures: Int, outFeatures: Int, pool: ThreadPool) {
        precondition(tokens >= 0 && inFeatures >= 0 && outFeatures >= 0, "linear backward: negative size")
        let a = StridedMatrix(base: dy, rowStride: 1, columnStride: outFeatures)  // dyᵀ: [out, tokens]
        BlockedProduct.multiply(a: a, b: x, ldb: inFeatures, c: dW, ldc: inFeatures,
                                m: outFeatures, n: inFeatures, k: tokens, accumulate: true, pool: pool)
    }

    /// Bias gradient `db[o] += Σ_t dy[t, o]`; `db` is `[outFeatures]`.
    public static func biasGradient(outputGradient dy: UnsafePointer<Float>, biasGradient db: UnsafeMutablePointer<Float>,
                                    tokens: Int, outFeatures: Int, pool: ThreadPool) {
        pool.parallelChunks(outFeatures, granularity: 64) { range in
            for t in 0..<tokens {
                addInPlace(dy + t * outFeatures + range.lowerBound, db + range.lowerBound, range.count)
            }
        }
    }

    /// Naive Double reference: returns `(dx, dW, db)` for `dy` `[tokens, out]`, `W` `[out, in]`,
    /// `x` `[tokens, in]` (gradients only, no accumulation). Slow; for tests.
    public static func reference(outputGradient dy: [Float], weight: [Float], input x: [Float],
                                 tokens: Int, inFeatures: Int, outFeatures: Int) -> (dx: [Double], dW: [Double], db: [Double]) {
        var dx = [Double](repeating: 0, count: tokens * inFeatures)
        var dW = [Double](repeating: 0, count: outFeatures * inFeatures)
        var db = [Double](repeating: 0, count: outFeatures)
        for t in 0..<tokens {
            for o in 0..<outFeatures {
                let g = Double(dy[t * outFeatures + o])
                db[o] += g
                for i in 0..<inFeatures {
                    dx[t * inFeatures + i] += g * Double(weight[o * inFeatures + i])
                    dW[o * inFeatures + i] += g * Double(x[t * inFeatures + i])
                }
            }
        }
        return (dx, dW, db)
    }
}
