import TridentKernels

/// What `LMHead.backward` reads: the final norm's input, the projection's context, and the
/// gradient of this rank's logits slice (computed with the loss).
public struct HeadContext: @unchecked Sendable {
    let input: ActivationBuffer          // [T, hidden]
    let projection: LinearContext
    let logitGradient: ActivationBuffer  // [T, localVocab]
}

extension LMHead {
    /// The vocabulary rows of tensor rank `rank`.
    func vocabularySlice(rank: Int) -> Range<Int> {
        let start = vocabularyWidths[..<rank].reduce(0, +)
        return start ..< start + vocabularyWidths[rank]
    }

    /// Training forward and loss: final norm, this rank's logits slice, and vocabulary-parallel
    /// cross-entropy (maxima and sums cross the group; full logits are never gathered).
    /// Every rank of `pass.group` must call this with the same targets, in the same order.
    /// - Parameters:
    ///   - x: `[T, hidden]` final activations.
    ///   - targets: `[T]` global ids (or `CrossEntropy.defaultIgnoreIndex`).
    ///   - denominator: the step's target count (the gradient is that of `lossSum / denominator`).
    /// - Throws: `CrossEntropyError.targetOutOfRange`, the group's collective errors.
    public func trainingLoss(_ x: ActivationBuffer, targets: [Int32], denominator: Int,
                             pass: TrainingPass) throws -> (CrossEntropyResult, HeadContext) {
        precondition(targets.count == x.rows)
        let normed = norm.trainingForward(x, pass: pass)
        let (logits, projectionContext) = projection.trainingForward(normed, pass: pass)   // [T, localVocab]
        let result = try targets.withUnsafeBufferPointer { t in
            try VocabParallelCrossEntropy.lossAndGradient(
                logits: logits.base, targets: t.baseAddress!, logitGradient: logits.base, tokens: x.rows,
                slice: vocabularySlice(rank: pass.group.rank), vocabulary: vocabularySize, group: pass.group,
                denominator: denominator, pool: pass.pool)
        }
        return (result, HeadContext(input: x, projection: projectionContext, logitGradient: logits))
    }

    /// Backward from the loss: the projection (its input gradient all-reduced), then the final norm.
    /// Every rank of `pass.group` must call this, in the same order.
    /// - Returns: `dx` `[T, hidden]`, the same on every rank.
    public func backward(context c: HeadContext, pass: TrainingPass) throws -> ActivationBuffer {
        let dNormed = ActivationBuffer(rows: c.input.rows, columns: norm.dimension)
        try projection.backward(c.logitGradient, context: c.projection, inputGradient: dNormed, accumulate: false,
                                reduceInputGradient: true, pass: pass)
        let dx = ActivationBuffer(rows: c.input.rows, columns: norm.dimension, zeroed: true)
        norm.backward(dNormed, input: c.input, addingInputGradientTo: dx, pass: pass)
        return dx
    }
}
