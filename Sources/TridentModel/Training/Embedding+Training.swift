import TridentKernels

extension VocabParallelEmbedding {
    /// Training forward: this rank's rows of the lookup, summed over the group
    /// (`reduceFromRegion`). Every rank of `pass.group` must call this with the same tokens.
    /// - Parameter tokens: `[T]` ids (checked against the vocabulary by the caller).
    /// - Returns: `[T, hidden]`, the same on every rank.
    public func trainingForward(_ tokens: [Int32], pass: TrainingPass) throws -> ActivationBuffer {
        let x = ActivationBuffer(rows: tokens.count, columns: hiddenSize, zeroed: true)   // [T, hidden]
        let table = weight.floats, hidden = hiddenSize
        for (t, id) in tokens.enumerated() where vocabularyRows.contains(Int(id)) {
            x.row(t).update(from: table + (Int(id) - vocabularyRows.lowerBound) * hidden, count: hidden)
        }
        try TensorParallelMappings.reduceFromRegion(x.buffer, group: pass.group)
        return x
    }

    /// Backward (`reduceFromRegion`'s is the identity): adds `dy[t]` into the gradient rows of
    /// the tokens in this rank's vocabulary slice only. No communication.
    /// - Parameters: tokens `[T]`, dy `[T, hidden]`.
    public func backward(_ dy: ActivationBuffer, tokens: [Int32], pass: TrainingPass) {
        guard let weightParameter else { preconditionFailure("embedding is not trainable") }
        precondition(dy.rows == tokens.count && dy.columns == hiddenSize)
        tokens.withUnsafeBufferPointer { ids in
            EmbeddingBackward.tokenEmbedding(tokenIDs: ids.baseAddress!, outputGradient: dy.base,
                                             tableGradient: weightParameter.gradientBase, vocabulary: vocabularyRows,
                                             tokens: tokens.count, hidden: hiddenSize, pool: pass.pool)
        }
    }
}

extension PositionEmbedding {
    /// Training forward: `x[t] += table[positions[t]]` in place (replicated; no communication).
    public func trainingForward(_ x: ActivationBuffer, pass: TrainingPass) {
        pass.positions.withUnsafeBufferPointer { forward(x.view, positions: $0.baseAddress!) }
    }

    /// Backward: `dTable[positions[t]] += dy[t]` (the same on every rank).
    public func backward(_ dy: ActivationBuffer, pass: TrainingPass) {
        guard let weightParameter else { preconditionFailure("position embedding is not trainable") }
        pass.positions.withUnsafeBufferPointer { p in
            EmbeddingBackward.positionEmbedding(positions: p.baseAddress!, outputGradient: dy.base,
                                                positionGradient: weightParameter.gradientBase,
                                                maxPositions: maxPositions, tokens: dy.rows, hidden: dy.columns,
                                                pool: pass.pool)
        }
    }
}
