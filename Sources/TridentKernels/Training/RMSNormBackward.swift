
/// Backward of `VectorKernels.rmsNorm`:
/// `y[t, i] = x[t, i] · r_t · w[i]`, `r_t = 1 / sqrt(mean_i(x[t, i]²) + eps)`.
///
/// With `x̂ = x · r` and `g = dy · w`:
/// `dx = r · (g − x̂ · mean_i(g · x̂))`, `dw[i] += Σ_t dy[t, i] · x̂[t, i]`.
public enum RMSNormBackward {
    /// - Parameters:
    ///   - x: the forward input `[tokens, dim]` (the saved activation).
    ///   - weight: `[dim]`.
    ///   - outputGradient: `dy` `[tokens, dim]`.
    ///   - inputGradient: `dx` `[tokens, dim]`, overwritten (or added to when `accumulate`,
    ///     e.g. straight into the residual stream's gradient). May not alias `x` or `dy`.
    ///   - weightGradient: `dw` `[dim]`, accumulated into.
    public static func backward(x: UnsafePointer<Float>, weight: UnsafePointer<Float>, eps: Float,
                                outputGradient dy: UnsafePointer<Float>,
                                inputGradient dx: UnsafeMutablePointer<Float>,
                                weightGradient dw: UnsafeMutablePointer<Float>,
                                tokens: Int, dim: Int, accumulate: Bool = false, pool: ThreadPool) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(tokens, 1)) { scales in
            let r = scales.baseAddress!
            pool.parallelFor(tokens) { t in
                let row = x + t * dim
                r[t] = 1 / (dotProduct(row, row, dim) / Float(dim) + eps).squareRoot()
                inputRow(row, r[t], weight, dy + t * dim, dx + t * dim, dim, accumulate)
            }
            pool.parallelChunks(dim, granularity: 64) { range in
                for t in 0..<tokens {
                    let xt = x + t * dim, dyt = dy + t * dim, rt = r[t]
                    for i in range { dw[i] += rt * xt[i] * dyt[i] }
                }
            }
        }
    }

    /// `dx` of one row.
    @inline(__always)
    private static func inputRow(_ x: UnsafePointer<Float>, _ r: Float, _ w: UnsafePointer<Float>,
                                 _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                 _ dim: Int, _ accumulate: Bool) {
        // mean(g · x̂) = r · Σ(dy · w · x) / dim
        var sum: Float = 0
        for i in 0..<dim { sum += dy[i] * w[i] * x[i] }
        let c = sum * r * r / Float(dim)
        for i in 0..<dim {
            let value = r * (dy[i] * w[i] - x[i] * c)
            dx[i] = accumulate ? dx[i] + value : value
        }
    }

}
