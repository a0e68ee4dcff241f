import TridentKernels

extension RowParallelLinear {
    /// Training forward `y = reduceFromRegion(x Wᵀ) + b` (with `pass.overlap`, in two halves of
    /// rows, the first half's all-reduce overlapping the second half's product). Every rank of
    /// `pass.group` must call this, in the same order.
    /// - Parameter x: `[T, localInputs]`, this rank's slice of the input.
    /// - Returns: `y` `[T, outputs]` (the full sum, on every rank) and the context of its backward.
    public func trainingForward(_ x: ActivationBuffer, pass: TrainingPass) throws -> (ActivationBuffer, LinearContext) {
        precondition(x.columns == inputSize && weightParameter != nil, "row-parallel linear is not trainable")
        let y = ActivationBuffer(rows: x.rows, columns: outputSize)   // [T, outputs]
        if let overlap = pass.overlap, x.rows >= 2 {
            // The first half's all-reduce runs while the second half is multiplied.
            try overlap.computeAndReduceInHalves(rows: x.rows, columns: outputSize, output: y.buffer, group: pass.group) { half in
                LinearForward.forward(input: x.base + half.lowerBound * inputSize, weight: weightParameter!.floats,
                                      output: y.base + half.lowerBound * outputSize, tokens: half.count,
                                      inFeatures: inputSize, outFeatures: outputSize, pool: pass.pool)
            }
        } else {
            LinearForward.forward(input: x.base, weight: weightParameter!.floats, output: y.base, tokens: x.rows,
                                  inFeatures: inputSize, outFeatures: outputSize, pool: pass.pool)
            try TensorParallelMappings.reduceFromRegion(y.buffer, group: pass.group)
        }
        if let bias { VectorKernels.addBias(y.base, bias: bias.floats, rows: y.rows, columns: y.columns) }
        return (y, LinearContext(input: x))
    }

    /// Backward (`reduceFromRegion`'s is the identity): adds `dW += dyᵀ x` (this rank's columns)
    /// and `db += Σ dy` (replicated: the same on every rank), and returns this rank's slice
    /// `dx = dy W`. No communication.
    /// - Parameter dy: `[T, outputs]`, the same on every rank.
    /// - Returns: `dx` `[T, localInputs]`.
    public func backward(_ dy: ActivationBuffer, context: LinearContext, pass: TrainingPass) -> ActivationBuffer {
        guard let weightParameter else { preconditionFailure("row-parallel linear is not trainable") }
        let x = context.input, rows = dy.rows
        precondition(dy.columns == outputSize && x.rows == rows)
        TensorParallelMappings.reduceFromRegionBackward(dy.buffer, group: pass.group)
        let dx = ActivationBuffer(rows: rows, columns: inputSize)   // [T, localInputs]
        LinearBackward.inputGradient(outputGradient: dy.base, weight: weightParameter.floats, inputGradient: dx.base,
                                     tokens: rows, inFeatures: inputSize, outFeatures: outputSize, pool: pass.pool)
        LinearBackward.weightGradient(outputGradient: dy.base, input: x.base, weightGradient: weightParameter.gradientBase,
                                      tokens: rows, inFeatures: inputSize, outFeatures: outputSize, pool: pass.pool)
        if let biasParameter {
            LinearBackward.biasGradient(outputGradient: dy.base, biasGradient: biasParameter.gradientBase,
                                        tokens: rows, outFeatures: outputSize, pool: pass.pool)
        }
        return dx
    }
}
