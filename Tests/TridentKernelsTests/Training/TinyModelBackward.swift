@testable import TridentKernels

/// The f32 forward and backward of `TinyModelGradientTests`' model from the training kernels,
/// in the order the layers will call them. Parameters in `TinyModelGradientTests.shapes` order.
enum TinyModelBackward {
    typealias M = TinyModelGradientTests

    /// `y = x Wᵀ` `[rows, out]` with the inference `matmul` (f32 weights).
    static func linear(_ x: [Float], _ w: [Float], rows: Int, inFeatures: Int, outFeatures: Int, pool: ThreadPool) -> [Float] {
        var y = [Float](repeating: 0, count: rows * outFeatures)
        w.withUnsafeBytes { wb in x.withUnsafeBufferPointer { xp in y.withBase {
            let weight = WeightMatrix(base: wb.baseAddress!, rows: outFeatures, columns: inFeatures, dtype: .f32, owner: nil)
            matmul(weight: weight, input: xp.baseAddress!, output: $0, tokens: rows, pool: pool)
        } } }
        return y
    }

    /// Backward of `linear`: returns dx (added onto `dxStart` when given) and adds dWᵀ into `dW`.
    static func linearBackward(_ dy: [Float], _ x: [Float], _ w: [Float], dW: inout [Float], dxStart: [Float]? = nil,
                               rows: Int, inFeatures: Int, outFeatures: Int, pool: ThreadPool) -> [Float] {
        var dx = dxStart ?? [Float](repeating: 0, count: rows * inFeatures)
        dy.withUnsafeBufferPointer { dyp in w.withUnsafeBufferPointer { wp in x.withUnsafeBufferPointer { xp in
            dx.withBase { LinearBackward.inputGradient(outputGradient: dyp.baseAddress!, weight: wp.baseAddress!, inputGradient: $0,
                                                       tokens: rows, inFeatures: inFeatures, outFeatures: outFeatures,
                                                       accumulate: dxStart != nil, pool: pool) }
            dW.withBase { LinearBackward.weightGradient(outputGradient: dyp.baseAddress!, input: xp.baseAddress!, weightGradient: $0,
                                                        tokens: rows, inFeatures: inFeatures, outFeatures: outFeatures, pool: pool) }
        } } }
        return dx
    }

    static func rmsNorm(_ x: [Float], _ w: [Float]) -> [Float] {
        var y = x
        x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in y.withBase {
            VectorKernels.rmsNorm(xp.baseAddress!, weight: wp.baseAddress!, eps: M.eps, out: $0, tokens: M.tokens, dim: M.hidden)
        } } }
        return y
    }

    /// Adds the norm's input gradient onto `residual` (the gradient flowing past the block) and its weight gradient into `dw`.
    static func rmsNormBackward(_ x: [Float], _ w: [Float], _ dy: [Float], residual: [Float], dw: inout [Float], pool: ThreadPool) -> [Float] {
        var dx = residual
        x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in dy.withUnsafeBufferPointer { dyp in
            dx.withBase { dxp in dw.withBase { dwp in
                RMSNormBackward.backward(x: xp.baseAddress!, weight: wp.baseAddress!, eps: M.eps, outputGradient: dyp.baseAddress!,
                                         inputGradient: dxp, weightGradient: dwp, tokens: M.tokens, dim: M.hidden,
                                         accumulate: true, pool: pool)
            } }
        } } }
        return dx
    }

    static func rope(_ x: inout [Float], heads: Int, backward: Bool) {
        M.positions.withUnsafeBufferPointer { p in x.withBase {
            if backward {
                RopeBackward.backward($0, tokens: M.tokens, heads: heads, headDim: M.headDim, positions: p.baseAddress!, base: 10000)
            } else {
                VectorKernels.rope($0, tokens: M.tokens, heads: heads, headDim: M.headDim, positions: p.baseAddress!, base: 10000)
            }
        } }
    }

    /// Loss and the gradient of every parameter.
    static func lossAndGradients(_ p: [[Float]], pool: ThreadPool) throws -> (Double, [[Float]]) {
        let (T, H, I, V) = (M.tokens, M.hidden, M.intermediate, M.vocabulary)
        let (qWidth, kvWidth) = (M.heads * M.headDim, M.kvHeads * M.headDim)
        var g = p.map { [Float](repeating: 0, count: $0.count) }
        // Forward, keeping what the backward needs.
        let h0 = M.ids.flatMap { p[0][(Int($0) * H)..<(Int($0) * H + H)] }
        let n1 = rmsNorm(h0, p[1])
        var q = linear(n1, p[2], rows: T, inFeatures: H, outFeatures: qWidth, pool: pool)
        var k = linear(n1, p[3], rows: T, inFeatures: H, outFeatures: kvWidth, pool: pool)
        let v = linear(n1, p[4], rows: T, inFeatures: H, outFeatures: kvWidth, pool: pool)
        rope(&q, heads: M.heads, backward: false)
        rope(&k, heads: M.kvHeads, backward: false)
        let zeros = [Float](repeating: 0, count: T * qWidth)
        let attention = AttentionBackwardTests.run(M.attentionCase, q, k, v, zeros, pool: pool)   // output and log-sum-exp
        let h1 = zip(h0, linear(attention.out, p[5], rows: T, inFeatures: qWidth, outFeatures: H, pool: pool)).map(+)
        let n2 = rmsNorm(h1, p[6])
        let gate = linear(n2, p[7], rows: T, inFeatures: H, outFeatures: I, pool: pool)
        let up = linear(n2, p[8], rows: T, inFeatures: H, outFeatures: I, pool: pool)
        var activated = [Float](repeating: 0, count: T * I)
        gate.withUnsafeBufferPointer { gp in up.withUnsafeBufferPointer { up in activated.withBase {
            ActivationKernels.gatedForward(.silu, gate: gp.baseAddress!, up: up.baseAddress!, out: $0, count: T * I, pool: pool)
        } } }
        let h2 = zip(h1, linear(activated, p[9], rows: T, inFeatures: I, outFeatures: H, pool: pool)).map(+)
        let n3 = rmsNorm(h2, p[10])
        var logits = linear(n3, p[0], rows: T, inFeatures: H, outFeatures: V, pool: pool)
        // Loss; the logits buffer becomes its gradient.
        let result = try M.targets.withUnsafeBufferPointer { tp in
            try logits.withBase { try CrossEntropy.lossAndGradient(logits: $0, targets: tp.baseAddress!, logitGradient: $0,
                                                                   tokens: T, vocabulary: V, pool: pool) }
        }
        // Backward: head (tied: into the embedding's gradient), final norm, MLP, attention, embedding.
        let dn3 = linearBackward(logits, n3, p[0], dW: &g[0], rows: T, inFeatures: H, outFeatures: V, pool: pool)
        let dh2 = rmsNormBackward(h2, p[10], dn3, residual: [Float](repeating: 0, count: T * H), dw: &g[10], pool: pool)
        let dActivated = linearBackward(dh2, activated, p[9], dW: &g[9], rows: T, inFeatures: I, outFeatures: H, pool: pool)
        var dGate = [Float](repeating: 0, count: T * I), dUp = dGate
        gate.withUnsafeBufferPointer { gp in up.withUnsafeBufferPointer { upp in dActivated.withUnsafeBufferPointer { dp in
            dGate.withBase { dg in dUp.withBase { du in
                ActivationKernels.gatedBackward(.silu, gate: gp.baseAddress!, up: upp.baseAddress!, outputGradient: dp.baseAddress!,
                                                gateGradient: dg, upGradient: du, count: T * I, pool: pool)
            } }
        } } }
        var dn2 = linearBackward(dGate, n2, p[7], dW: &g[7], rows: T, inFeatures: H, outFeatures: I, pool: pool)
        dn2 = linearBackward(dUp, n2, p[8], dW: &g[8], dxStart: dn2, rows: T, inFeatures: H, outFeatures: I, pool: pool)
        let dh1 = rmsNormBackward(h1, p[6], dn2, residual: dh2, dw: &g[6], pool: pool)
        let dAttention = linearBackward(dh1, attention.out, p[5], dW: &g[5], rows: T, inFeatures: qWidth, outFeatures: H, pool: pool)
        var (dq, dk, dv) = attentionBackward(q, k, v, attention.out, attention.lse, dAttention, pool: pool)
        rope(&dq, heads: M.heads, backward: true)
        rope(&dk, heads: M.kvHeads, backward: true)
        var dn1 = linearBackward(dq, n1, p[2], dW: &g[2], rows: T, inFeatures: H, outFeatures: qWidth, pool: pool)
        dn1 = linearBackward(dk, n1, p[3], dW: &g[3], dxStart: dn1, rows: T, inFeatures: H, outFeatures: kvWidth, pool: pool)
        dn1 = linearBackward(dv, n1, p[4], dW: &g[4], dxStart: dn1, rows: T, inFeatures: H, outFeatures: kvWidth, pool: pool)
        let dh0 = rmsNormBackward(h0, p[1], dn1, residual: dh1, dw: &g[1], pool: pool)
        M.ids.withUnsafeBufferPointer { ip in dh0.withUnsafeBufferPointer { dp in g[0].withBase {
            EmbeddingBackward.tokenEmbedding(tokenIDs: ip.baseAddress!, outputGradient: dp.baseAddress!, tableGradient: $0,
                                             vocabulary: 0..<V, tokens: T, hidden: H, pool: pool)
        } } }
        return (result.loss, g)
    }

    static func attentionBackward(_ q: [Float], _ k: [Float], _ v: [Float], _ out: [Float], _ lse: [Float], _ dOut: [Float],
                                  pool: ThreadPool) -> ([Float], [Float], [Float]) {
        var dq = [Float](repeating: 0, count: q.count), dk = [Float](repeating: 0, count: k.count), dv = dk
        q.withUnsafeBufferPointer { qp in k.withUnsafeBufferPointer { kp in v.withUnsafeBufferPointer { vp in
            out.withUnsafeBufferPointer { op in lse.withUnsafeBufferPointer { lp in dOut.withUnsafeBufferPointer { gp in
                dq.withBase { dqp in dk.withBase { dkp in dv.withBase { dvp in
                    AttentionTraining.backward(queries: qp.baseAddress!, keys: kp.baseAddress!, values: vp.baseAddress!,
                                               output: op.baseAddress!, logSumExp: lp.baseAddress!, outputGradient: gp.baseAddress!,
                                               queryGradient: dqp, keyGradient: dkp, valueGradient: dvp,
                                               tokens: M.tokens, layout: M.layout, pool: pool)
                } } }
            } } }
        } } }
        return (dq, dk, dv)
    }
}
