import TridentKernels

/// What `ParallelMLP.backward` reads.
public struct MLPContext: @unchecked Sendable {
    let input: LinearContext
    let gate: ActivationBuffer?     // [T, localFFN] pre-activation (gated MLP)
    let up: ActivationBuffer        // [T, localFFN] (pre-activation in the plain MLP)
    let down: LinearContext         // its input: act(gate) * up, or act(up)
}

extension ParallelMLP {
    /// Training forward. Every rank of `pass.group` must call this, in the same order.
    /// - Parameter h: `[T, hidden]` normed activations, replicated.
    /// - Returns: `[T, hidden]` (summed over the group) and the context of the backward.
    public func trainingForward(_ h: ActivationBuffer, pass: TrainingPass) throws -> (ActivationBuffer, MLPContext) {
        let (u, inputContext) = up.trainingForward(h, pass: pass)                   // [T, localFFN]
        let activated = ActivationBuffer(rows: h.rows, columns: u.columns)          // [T, localFFN]
        var g: ActivationBuffer?
        if let gate {
            let gated = gate.trainingForward(h, pass: pass).0
            ActivationKernels.gatedForward(activation, gate: gated.base, up: u.base, out: activated.base,
                                           count: activated.count, pool: pass.pool)
            g = gated
        } else {
            ActivationKernels.forward(activation, u.base, out: activated.base, count: activated.count, pool: pass.pool)
        }
        let (out, downContext) = try down.trainingForward(activated, pass: pass)
        return (out, MLPContext(input: inputContext, gate: g, up: u, down: downContext))
    }

    /// Backward: down (no communication), the activation, then gate and up add into one input
    /// gradient all-reduced once (`copyToRegion`'s backward). Every rank of `pass.group` must call
    /// this, in the same order.
    /// - Parameter dy: `[T, hidden]`. - Returns: `dh` `[T, hidden]`, the same on every rank.
    public func backward(_ dy: ActivationBuffer, context c: MLPContext, pass: TrainingPass) throws -> ActivationBuffer {
        let dActivated = down.backward(dy, context: c.down, pass: pass)             // [T, localFFN]
        let dh = ActivationBuffer(rows: dy.rows, columns: up.inputSize)             // [T, hidden]
        if let gate, let g = c.gate {
            let dGate = ActivationBuffer(rows: dy.rows, columns: g.columns)
            ActivationKernels.gatedBackward(activation, gate: g.base, up: c.up.base, outputGradient: dActivated.base,
                                            gateGradient: dGate.base, upGradient: dActivated.base,
                                            count: dGate.count, pool: pass.pool)
            try gate.backward(dGate, context: c.input, inputGradient: dh, accumulate: false, reduceInputGradient: false,
                              pass: pass)
            try up.backward(dActivated, context: c.input, inputGradient: dh, accumulate: true, reduceInputGradient: true,
                            pass: pass)
        } else {
            ActivationKernels.backward(activation, c.up.base, outputGradient: dActivated.base,
                                       inputGradient: dActivated.base, count: dActivated.count, pool: pass.pool)
            try up.backward(dActivated, context: c.input, inputGradient: dh, accumulate: false, reduceInputGradient: true,
                            pass: pass)
        }
        return dh
    }

    /// The trainable tensors, in forward order (gate, up, down; weights before biases).
    public var trainableParameters: [TrainingTensor] {
        ([gate, up].compactMap { $0 }).flatMap { [$0.weightParameter, $0.biasParameter].compactMap { $0 } }
            + [down.weightParameter, down.biasParameter].compactMap { $0 }
    }
}
