import TridentCollectives
import TridentKernels

/// What a linear layer's backward reads: its forward input `[T, inputs]`.
public struct LinearContext: @unchecked Sendable {
    public let input: ActivationBuffer
}

/// The rows of a K or V projection grouped by KV head, for heads that several tensor ranks hold:
/// their weight (and bias) gradients are summed over the group (`SharedKVHeadGradients`).
public struct SharedHeadRows: Sendable {
    /// Rows of one head (`headDim`).
    public let rowsPerHead: Int
    /// Global index of each local head.
    public let globalHeads: [Int]
    /// KV heads of the whole model.
    public let totalHeads: Int

    public init(rowsPerHead: Int, globalHeads: [Int], totalHeads: Int) {
        self.rowsPerHead = rowsPerHead
        self.globalHeads = globalHeads
        self.totalHeads = totalHeads
    }
}

extension ColumnParallelLinear {
    /// Training forward `y = x Wᵀ + b` (`copyToRegion`: identity).
    /// - Parameter x: `[T, inputs]`, replicated on every rank.
    /// - Returns: `y` `[T, localOutputs]` and the context its backward reads.
    public func trainingForward(_ x: ActivationBuffer, pass: TrainingPass) -> (ActivationBuffer, LinearContext) {
        precondition(x.columns == inputSize && weightParameter != nil, "column-parallel linear is not trainable")
        let y = ActivationBuffer(rows: x.rows, columns: outputSize)   // [T, localOutputs]
        LinearForward.forward(input: x.base, weight: weightParameter!.floats, output: y.base, tokens: x.rows,
                              inFeatures: inputSize, outFeatures: outputSize, pool: pass.pool)
        if let bias { VectorKernels.addBias(y.base, bias: bias.floats, rows: y.rows, columns: y.columns) }
        return (y, LinearContext(input: x))
    }

    /// Backward: adds `dW += dyᵀ x` and `db += Σ dy` into the parameters' gradients, writes (or
    /// with `accumulate` adds) `dx = dy W` into `inputGradient`, then, when `reduceInputGradient`,
    /// applies `copyToRegion`'s backward (all-reduce of `dx` over the group; with `pass.overlap`,
    /// running while the weight gradient is computed). Projections that read
    /// one input (q, k, v; gate, up) add into one `dx` and reduce once, with the last of them.
    /// Every rank of `pass.group` must call this, in the same order.
    /// - Parameters:
    ///   - dy: `[T, localOutputs]`.
    ///   - inputGradient: `[T, inputs]`.
    ///   - sharedHeads: for K/V projections under tensor parallelism: this micro-batch's weight
    ///     gradient of a KV head held by several ranks is summed over them before it is added.
    public func backward(_ dy: ActivationBuffer, context: LinearContext, inputGradient dx: ActivationBuffer,
                         accumulate: Bool, reduceInputGradient: Bool, sharedHeads: SharedHeadRows? = nil,
                         pass: TrainingPass) throws {
        guard let weightParameter else { preconditionFailure("column-parallel linear is not trainable") }
        let x = context.input, rows = dy.rows
        precondition(dy.columns == outputSize && dx.columns == inputSize && x.rows == rows && dx.rows == rows)
        LinearBackward.inputGradient(outputGradient: dy.base, weight: weightParameter.floats, inputGradient: dx.base,
                                     tokens: rows, inFeatures: inputSize, outFeatures: outputSize,
                                     accumulate: accumulate, pool: pass.pool)
        if let sharedHeads, pass.group.size > 1 {
            // Sums over the group itself: no all-reduce may be in flight meanwhile.
            try sharedGradients(dy, input: x, heads: sharedHeads, pass: pass)
        } else if reduceInputGradient, let overlap = pass.overlap {
            // Megatron's async TP: dx's all-reduce runs while the weight gradient is computed.
            try overlap.allReduce(dx.buffer, group: pass.group) { localGradients(dy, input: x, pass: pass) }
            return
        } else {
            localGradients(dy, input: x, pass: pass)
        }
        if reduceInputGradient { try TensorParallelMappings.copyToRegionBackward(dx.buffer, group: pass.group) }
    }

    /// `dW += dyᵀ x` and `db += Σ dy` into the parameters' gradients (this rank's rows only).
    private func localGradients(_ dy: ActivationBuffer, input x: ActivationBuffer, pass: TrainingPass) {
        LinearBackward.weightGradient(outputGradient: dy.base, input: x.base, weightGradient: weightParameter!.gradientBase,
                                      tokens: dy.rows, inFeatures: inputSize, outFeatures: outputSize, pool: pass.pool)
        if let biasParameter {
            LinearBackward.biasGradient(outputGradient: dy.base, biasGradient: biasParameter.gradientBase,
                                        tokens: dy.rows, outFeatures: outputSize, pool: pass.pool)
        }
    }

    /// This micro-batch's weight (and bias) gradient, summed over the ranks holding each KV head,
    /// added into the parameters' gradients.
    private func sharedGradients(_ dy: ActivationBuffer, input x: ActivationBuffer, heads: SharedHeadRows,
                                 pass: TrainingPass) throws {
        let rows = dy.rows
        let dW = ActivationBuffer(rows: outputSize, columns: inputSize, zeroed: true)   // [localOutputs, inputs]
        LinearBackward.weightGradient(outputGradient: dy.base, input: x.base, weightGradient: dW.base,
                                      tokens: rows, inFeatures: inputSize, outFeatures: outputSize, pool: pass.pool)
        try SharedKVHeadGradients.sum(dW.base, elementsPerHead: heads.rowsPerHead * inputSize,
                                      globalHeads: heads.globalHeads, totalKVHeads: heads.totalHeads, group: pass.group)
        VectorKernels.add(weightParameter!.gradientBase, dW.base, out: weightParameter!.gradientBase, count: dW.count)
        guard let biasParameter else { return }
        let db = ActivationBuffer(rows: 1, columns: outputSize, zeroed: true)   // [localOutputs]
        LinearBackward.biasGradient(outputGradient: dy.base, biasGradient: db.base, tokens: rows, outFeatures: outputSize,
                                    pool: pass.pool)
        try SharedKVHeadGradients.sum(db.base, elementsPerHead: heads.rowsPerHead, globalHeads: heads.globalHeads,
                                      totalKVHeads: heads.totalHeads, group: pass.group)
        VectorKernels.add(biasParameter.gradientBase, db.base, out: biasParameter.gradientBase, count: db.count)
    }
}
