import TridentKernels

/// What `TransformerBlock.backward` reads.
public struct BlockContext: @unchecked Sendable {
    let input: ActivationBuffer        // x [T, hidden]
    let attention: AttentionContext
    let middle: ActivationBuffer       // h = x + attention(norm(x)) [T, hidden]
    let mlp: MLPContext
}

extension TransformerBlock {
    /// Training forward `h = x + attention(norm(x))`, `y = h + mlp(norm(h))`.
    /// Every rank of `pass.group` must call this, in the same order.
    /// - Parameter x: `[T, hidden]`, replicated. - Returns: `y` `[T, hidden]` and the context.
    public func trainingForward(_ x: ActivationBuffer, pass: TrainingPass) throws -> (ActivationBuffer, BlockContext) {
        let (attended, attentionContext) = try attention.trainingForward(attentionNorm.trainingForward(x, pass: pass),
                                                                         pass: pass)
        VectorKernels.add(attended.base, x.base, out: attended.base, count: x.count)
        let h = attended                                                             // [T, hidden]
        let (y, mlpContext) = try mlp.trainingForward(mlpNorm.trainingForward(h, pass: pass), pass: pass)
        VectorKernels.add(y.base, h.base, out: y.base, count: h.count)
        return (y, BlockContext(input: x, attention: attentionContext, middle: h, mlp: mlpContext))
    }

    /// Backward through both residual branches. Every rank of `pass.group` must call this, in
    /// the same order.
    /// - Parameter dy: `[T, hidden]`, replicated. - Returns: `dx` `[T, hidden]`.
    public func backward(_ dy: ActivationBuffer, context c: BlockContext, pass: TrainingPass) throws -> ActivationBuffer {
        let dn2 = try mlp.backward(dy, context: c.mlp, pass: pass)
        let dh = dy.copy()
        mlpNorm.backward(dn2, input: c.middle, addingInputGradientTo: dh, pass: pass)
        let dn1 = try attention.backward(dh, context: c.attention, pass: pass)
        attentionNorm.backward(dn1, input: c.input, addingInputGradientTo: dh, pass: pass)
        return dh
    }

    /// The trainable tensors, in forward order.
    public var trainableParameters: [TrainingTensor] {
        attentionNorm.trainableParameters + attention.trainableParameters + mlpNorm.trainableParameters
            + mlp.trainableParameters
    }
}
