
/// LayerNorm with an optional bias, as `torch.nn.LayerNorm` (biased variance):
/// `y[t, i] = (x[t, i] − μ_t) · r_t · γ[i] + β[i]`, `r_t = 1 / sqrt(mean_i((x[t, i] − μ_t)²) + eps)`.
///
/// Backward, with `x̂ = (x − μ) · r` and `g = dy · γ`:
/// `dx = r · (g − mean_i(g) − x̂ · mean_i(g · x̂))`, `dγ += Σ_t dy · x̂`, `dβ += Σ_t dy`.
/// The backward recomputes `μ` and `r` from the saved input `x` (2 reads of a row, cheaper
/// than storing them per layer and micro-batch).
public enum LayerNormKernels {
    /// `out` `[tokens, dim]` from `x` `[tokens, dim]` (may be the same buffer), `gamma`/`beta` `[dim]`.
    public static func forward(_ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>?,
                               eps: Float, out: UnsafeMutablePointer<Float>, tokens: Int, dim: Int, pool: ThreadPool) {
        pool.parallelFor(tokens) { t in
            let row = x + t * dim, o = out + t * dim
            let (mean, r) = statistics(row, dim, eps)
            for i in 0..<dim {
                o[i] = (row[i] - mean) * r * gamma[i] + (beta?[i] ?? 0)
            }
        }
    }

    /// - Parameters:
    ///   - x: the forward input `[tokens, dim]`; `gamma` `[dim]`; `dy` `[tokens, dim]`.
    ///   - inputGradient: `dx` `[tokens, dim]`, overwritten or added to when `accumulate`.
    ///   - gammaGradient, betaGradient: `[dim]`, accumulated into (`betaGradient` nil: no bias).
    public static func backward(x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, eps: Float,
                                outputGradient dy: UnsafePointer<Float>,
                                inputGradient dx: UnsafeMutablePointer<Float>,
                                gammaGradient dGamma: UnsafeMutablePointer<Float>,
                                betaGradient dBeta: UnsafeMutablePointer<Float>?,
                                tokens: Int, dim: Int, accumulate: Bool = false, pool: ThreadPool) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(2 * tokens, 1)) { saved in
            let means = saved.baseAddress!, scales = means + tokens
            pool.parallelFor(tokens) { t in
                let row = x + t * dim
                (means[t], scales[t]) = statistics(row, dim, eps)
                inputRow(row, means[t], scales[t], gamma, dy + t * dim, dx + t * dim, dim, accumulate)
            }
            pool.parallelChunks(dim, granularity: 64) { range in
                for t in 0..<tokens {
                    let xt = x + t * dim, dyt = dy + t * dim, mean = means[t], r = scales[t]
                    for i in range { dGamma[i] += (xt[i] - mean) * r * dyt[i] }
                    if let dBeta { for i in range { dBeta[i] += dyt[i] } }
                }
            }
        }
    }

    /// Mean and `1 / sqrt(var + eps)` of one row (two passes, float accumulation).
    @inline(__always)
    static func statistics(_ row: UnsafePointer<Float>, _ dim: Int, _ eps: Float) -> (Float, Float) {
        var sum: Float = 0
        for i in 0..<dim { sum += row[i] }
        let mean = sum / Float(dim)
        var squares: Float = 0
        for i in 0..<dim { squares += (row[i] - mean) * (row[i] - mean) }
        return (mean, 1 / (squares / Float(dim) + eps).squareRoot())
    }

    @inline(__always)
    private static func inputRow(_ x: UnsafePointer<Float>, _ mean: Float, _ r: Float, _ gamma: UnsafePointer<Float>,
                                 _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                 _ dim: Int, _ accumulate: Bool) {
        var sumG: Float = 0, sumGX: Float = 0
        for i in 0..<dim {
            let g = dy[i] * gamma[i]
            sumG += g
            sumGX += g * (x[i] - mean) * r
        }
        let meanG = sumG / Float(dim), meanGX = sumGX / Float(dim)
        for i in 0..<dim {
            let value = r * (dy[i] * gamma[i] - meanG - (x[i] - mean) * r * meanGX)
            dx[i] = accumulate ? dx[i] + value : value
        }
    }
}
