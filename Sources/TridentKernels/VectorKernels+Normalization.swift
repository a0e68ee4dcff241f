extension VectorKernels {
    /// Layer normalisation of each row with a learned scale and shift:
    /// `out[t, i] = (x[t, i] - mean(x[t])) / sqrt(var(x[t]) + eps) * weight[i] + bias[i]`
    /// (population variance; statistics accumulated in Double for stability).
    /// `x`, `out`: `[tokens, dim]` (may be the same buffer); `weight`, `bias`: `[dim]`.
    public static func layerNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                 eps: Float, out: UnsafeMutablePointer<Float>, tokens: Int, dim: Int) {
        for t in 0 ..< tokens {
            let row = x + t * dim
            let o = out + t * dim
            var sum: Double = 0, squares: Double = 0
            for i in 0 ..< dim {
                let v = Double(row[i])
                sum += v
                squares += v * v
            }
            let mean = sum / Double(dim)
            let variance = max(squares / Double(dim) - mean * mean, 0)
            let scale = Float(1 / (variance + Double(eps)).squareRoot())
            let m = Float(mean)
            for i in 0 ..< dim { o[i] = (row[i] - m) * scale * weight[i] + bias[i] }
        }
    }

    /// Adds `bias` to every row: `x[t, i] += bias[i]`. `x`: `[rows, columns]`, row `t` at
    /// `x + t * stride`; `bias`: `[columns]`.
    public static func addBias(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, columns: Int,
                               stride: Int? = nil) {
        let stride = stride ?? columns
        for t in 0 ..< rows { add(x + t * stride, bias, out: x + t * stride, count: columns) }
    }
}
