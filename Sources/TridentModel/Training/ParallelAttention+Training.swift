import TridentKernels

/// What `ParallelAttention.backward` reads: the projections' contexts, the rotated queries and
/// keys, the values, the attended output and each row's log-sum-exp.
public struct AttentionContext: @unchecked Sendable {
    let input: LinearContext
    let queries: ActivationBuffer     // [T, heads * hd], rotated
    let keys: ActivationBuffer        // [T, kvHeads * hd], rotated
    let values: ActivationBuffer      // [T, kvHeads * hd]
    let attended: ActivationBuffer    // [T, heads * hd]
    let logSumExp: ActivationBuffer   // [T, heads]
    let output: LinearContext
}

extension ParallelAttention {
    /// Training forward over every sequence of the pass (causal, each from position 0).
    /// Every rank of `pass.group` must call this, in the same order.
    /// - Parameter h: `[T, hidden]` normed activations, replicated.
    /// - Returns: `[T, hidden]` (summed over the group) and the context of the backward.
    /// - Parameter layer: the block's index in the model (names its dropout streams).
    public func trainingForward(_ h: ActivationBuffer, layer: Int = 0,
                                pass: TrainingPass) throws -> (ActivationBuffer, AttentionContext) {
        let (q, inputContext) = query.trainingForward(h, pass: pass)
        let (k, _) = key.trainingForward(h, pass: pass)
        let (v, _) = value.trainingForward(h, pass: pass)
        rotate(q, heads: layout.heads, pass: pass, backward: false)
        rotate(k, heads: layout.kvHeads, pass: pass, backward: false)
        let attended = ActivationBuffer(rows: h.rows, columns: q.columns)             // [T, heads * hd]
        let logSumExp = ActivationBuffer(rows: h.rows, columns: layout.heads)         // [T, heads]
        let length = pass.sequenceLength
        for s in 0 ..< pass.sequences {
            let first = s * length
            AttentionTraining.forward(queries: q.row(first), keys: k.row(first), values: v.row(first),
                                      output: attended.row(first), logSumExp: logSumExp.row(first),
                                      tokens: length, layout: layout,
                                      dropout: pass.dropout?.attention(layer: layer, sequence: s, length: length),
                                      pool: pass.pool)
        }
        let (out, outputContext) = try output.trainingForward(attended, pass: pass)
        return (out, AttentionContext(input: inputContext, queries: q, keys: k, values: v, attended: attended,
                                      logSumExp: logSumExp, output: outputContext))
    }

    /// Backward: the output projection (no communication), attention per sequence, RoPE's
    /// inverse rotation, then q, k and v add into one input gradient that is all-reduced once
    /// (`copyToRegion`'s backward). K/V gradients of a KV head held by two ranks are summed.
    /// Every rank of `pass.group` must call this, in the same order.
    /// - Parameter dy: `[T, hidden]`. - Returns: `dh` `[T, hidden]`, the same on every rank.
    public func backward(_ dy: ActivationBuffer, context c: AttentionContext, layer: Int = 0,
                         pass: TrainingPass) throws -> ActivationBuffer {
        let dAttended = output.backward(dy, context: c.output, pass: pass)          // [T, heads * hd]
        let dq = ActivationBuffer(rows: dy.rows, columns: c.queries.columns)        // [T, heads * hd]
        let dk = ActivationBuffer(rows: dy.rows, columns: c.keys.columns)           // [T, kvHeads * hd]
        let dv = ActivationBuffer(rows: dy.rows, columns: c.values.columns)
        let length = pass.sequenceLength
        for s in 0 ..< pass.sequences {
            let first = s * length
            AttentionTraining.backward(queries: c.queries.row(first), keys: c.keys.row(first), values: c.values.row(first),
                                       output: c.attended.row(first), logSumExp: c.logSumExp.row(first),
                                       outputGradient: dAttended.row(first), queryGradient: dq.row(first),
                                       keyGradient: dk.row(first), valueGradient: dv.row(first),
                                       tokens: length, layout: layout,
                                       dropout: pass.dropout?.attention(layer: layer, sequence: s, length: length),
                                       pool: pass.pool)
        }
        rotate(dq, heads: layout.heads, pass: pass, backward: true)
        rotate(dk, heads: layout.kvHeads, pass: pass, backward: true)
        let dh = ActivationBuffer(rows: dy.rows, columns: query.inputSize)          // [T, hidden]
        try query.backward(dq, context: c.input, inputGradient: dh, accumulate: false, reduceInputGradient: false,
                           pass: pass)
        try key.backward(dk, context: c.input, inputGradient: dh, accumulate: true, reduceInputGradient: false,
                         sharedHeads: sharedKVHeads, pass: pass)
        try value.backward(dv, context: c.input, inputGradient: dh, accumulate: true, reduceInputGradient: true,
                           sharedHeads: sharedKVHeads, pass: pass)
        return dh
    }

    /// RoPE (or its inverse) on `[T, heads, headDim]` rows at the pass's positions.
    private func rotate(_ x: ActivationBuffer, heads: Int, pass: TrainingPass, backward: Bool) {
        guard let ropeTheta else { return }
        pass.positions.withUnsafeBufferPointer { p in
            if backward {
                RopeBackward.backward(x.base, tokens: x.rows, heads: heads, headDim: layout.headDim,
                                      positions: p.baseAddress!, base: ropeTheta, pairing: ropePairing,
                                   scaling: ropeScaling)
            } else {
                VectorKernels.rope(x.base, tokens: x.rows, heads: heads, headDim: layout.headDim,
                                   positions: p.baseAddress!, base: ropeTheta, pairing: ropePairing,
                                   scaling: ropeScaling)
            }
        }
    }

    /// The trainable tensors, in forward order.
    public var trainableParameters: [TrainingTensor] {
        [query, key, value].flatMap { [$0.weightParameter, $0.biasParameter].compactMap { $0 } }
            + [output.weightParameter, output.biasParameter].compactMap { $0 }
    }
}
