import TridentKernels

extension RMSNorm {
    public func trainingForward(_ x: ActivationBuffer, pass: TrainingPass) -> ActivationBuffer {
        precondition(x.columns == dimension)
        let y = ActivationBuffer(rows: x.rows, columns: dimension)   // [T, dimension]
        VectorKernels.rmsNorm(x.base, weight: weight.floats, eps: epsilon, out: y.base, tokens: x.rows, dim: dimension)
        return y
    }

    public func backward(_ dy: ActivationBuffer, input x: ActivationBuffer, addingInputGradientTo dx: ActivationBuffer,
                         pass: TrainingPass) {
        guard let weightParameter else { preconditionFailure("RMSNorm is not trainable") }
        RMSNormBackward.backward(x: x.base, weight: weightParameter.floats, eps: epsilon, outputGradient: dy.base,
                                 inputGradient: dx.base, weightGradient: weightParameter.gradientBase,
                                 tokens: x.rows, dim: dimension, accumulate: true, pool: pass.pool)
    }

    public var trainableParameters: [TrainingTensor] { weightParameter.map { [$0] } ?? [] }
}

extension LayerNorm {
    public func trainingForward(_ x: ActivationBuffer, pass: TrainingPass) -> ActivationBuffer {
        precondition(x.columns == dimension)
        let y = ActivationBuffer(rows: x.rows, columns: dimension)   // [T, dimension]
        LayerNormKernels.forward(x.base, gamma: weight.floats, beta: bias.floats, eps: epsilon, out: y.base,
                                 tokens: x.rows, dim: dimension, pool: pass.pool)
        return y
    }

    public func backward(_ dy: ActivationBuffer, input x: ActivationBuffer, addingInputGradientTo dx: ActivationBuffer,
                         pass: TrainingPass) {
        guard let weightParameter, let biasParameter else { preconditionFailure("LayerNorm is not trainable") }
        LayerNormKernels.backward(x: x.base, gamma: weightParameter.floats, eps: epsilon, outputGradient: dy.base,
                                  inputGradient: dx.base, gammaGradient: weightParameter.gradientBase,
                                  betaGradient: biasParameter.gradientBase, tokens: x.rows, dim: dimension,
                                  accumulate: true, pool: pass.pool)
    }

    public var trainableParameters: [TrainingTensor] {
        guard let weightParameter, let biasParameter else { return [] }
        return [weightParameter, biasParameter]
    }
}
