import TridentKernels

extension ColumnParallelLinear {
    /// `a`, `b` (and `c`) applied to the same input, exactly as their `forward`s would: for
    /// one token (decode) in a single fork/join over all their rows (`matvecFused`), otherwise
    /// one after the other. Used for q/k/v and gate/up.
    /// - Parameters:
    ///   - x: `[T, inputs]` (replicated on every rank).
    ///   - a, b, c: each layer with its output `[T, localOutputs]` (any row stride).
    public static func forwardFused(_ x: MatrixView, _ a: (ColumnParallelLinear, MatrixView),
                                    _ b: (ColumnParallelLinear, MatrixView), _ c: (ColumnParallelLinear, MatrixView)? = nil,
                                    context: InferenceContext) {
        guard x.rows == 1, a.0.inputSize == x.columns, b.0.inputSize == x.columns,
              c.map({ $0.0.inputSize == x.columns }) ?? true,
              a.1.rows == 1 && a.1.columns == a.0.outputSize, b.1.rows == 1 && b.1.columns == b.0.outputSize,
              c.map({ $0.1.rows == 1 && $0.1.columns == $0.0.outputSize }) ?? true else {
            // Several tokens (or a shape the layers' own checks should report): one by one.
            a.0.forward(x, into: a.1, context: context)
            b.0.forward(x, into: b.1, context: context)
            if let c { c.0.forward(x, into: c.1, context: context) }
            return
        }
        TensorParallelMappings.copyToRegion(x.buffer, group: context.group)
        matvecFused(MatvecTarget(weight: a.0.weight.matrix, output: a.1.base),
                    MatvecTarget(weight: b.0.weight.matrix, output: b.1.base),
                    c.map { MatvecTarget(weight: $0.0.weight.matrix, output: $0.1.base) },
                    input: x.base, pool: context.pool)
        a.0.addBiasIfAny(a.1)
        b.0.addBiasIfAny(b.1)
        if let c { c.0.addBiasIfAny(c.1) }
    }

    /// Adds `bias` (if this layer has one) to every row of `y` `[T, localOutputs]`.
    @inline(__always)
    private func addBiasIfAny(_ y: MatrixView) {
        if let bias { VectorKernels.addBias(y.base, bias: bias.floats, rows: y.rows, columns: y.columns, stride: y.stride) }
    }
}
