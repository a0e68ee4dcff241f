import TridentKernels

/// What `TransformerBlock.backward` reads.
public struct BlockContext: @unchecked Sendable {
    let input: ActivationBuffer        // x [T, hidden]
    let attention: AttentionContext
    let middle: ActivationBuffer       // h = x + attention(norm(x)) [T, hidden]
    let mlp: MLPContext
}

extension TransformerBlock {
    /// Training forward `h = x + drop(attention(norm(x)))`, `y = h + drop(mlp(norm(h)))`
    /// (dropout only with `pass.dropout`). Every rank of `pass.group` must call this, in the same order.
    /// - Parameters:
    ///   - x: `[T, hidden]`, replicated.
    ///   - layer: this block's index in the model (names its dropout streams).
    /// - Returns: `y` `[T, hidden]` and the context.
    public func trainingForward(_ x: ActivationBuffer, layer: Int = 0,
                                pass: TrainingPass) throws -> (ActivationBuffer, BlockContext) {
        let (attended, attentionContext) = try attention.trainingForward(attentionNorm.trainingForward(x, pass: pass),
                                                                         layer: layer, pass: pass)
        pass.dropout?.hidden(attended, layer: layer, site: .attentionOutput, pool: pass.pool)
        VectorKernels.add(attended.base, x.base, out: attended.base, count: x.count)
        let h = attended                                                             // [T, hidden]
        let (y, mlpContext) = try mlp.trainingForward(mlpNorm.trainingForward(h, pass: pass), pass: pass)
        pass.dropout?.hidden(y, layer: layer, site: .mlpOutput, pool: pass.pool)
        VectorKernels.add(y.base, h.base, out: y.base, count: h.count)
        return (y, BlockContext(input: x, attention: attentionContext, middle: h, mlp: mlpContext))
    }

    /// Backward through both residual branches. Every rank of `pass.group` must call this, in
    /// the same order.
    /// - Parameter dy: `[T, hidden]`, replicated. - Returns: `dx` `[T, hidden]`.
    public func backward(_ dy: ActivationBuffer, context c: BlockContext, layer: Int = 0,
                         pass: TrainingPass) throws -> ActivationBuffer {
        var dMLP = dy
        if let dropout = pass.dropout {
            dMLP = dy.copy()
            dropout.hidden(dMLP, layer: layer, site: .mlpOutput, pool: pass.pool)
        }
        let dn2 = try mlp.backward(dMLP, context: c.mlp, pass: pass)
        let dh = dy.copy()
        mlpNorm.backward(dn2, input: c.middle, addingInputGradientTo: dh, pass: pass)
        var dAttention = dh
        if let dropout = pass.dropout {
            dAttention = dh.copy()
            dropout.hidden(dAttention, layer: layer, site: .attentionOutput, pool: pass.pool)
        }
        let dn1 = try attention.backward(dAttention, context: c.attention, layer: layer, pass: pass)
        attentionNorm.backward(dn1, input: c.input, addingInputGradientTo: dh, pass: pass)
        return dh
    }

    /// The trainable tensors, in forward order.
    public var trainableParameters: [TrainingTensor] {
        attentionNorm.trainableParameters + attention.trainableParameters + mlpNorm.trainableParameters
            + mlp.trainableParameters
    }
}
