import TridentKernels
import TridentModel

extension LlamaTrainingModel {
    /// Forward and backward over one micro-batch, as one batch of `sequences.count × L` rows
    /// (attention per sequence): the whole model as one stage that is both first and last.
    /// See `TrainableModel.accumulateGradients`.
    /// Every rank of the tensor group must call this with the same sequences, in the same order.
    /// - Throws: `TrainingError.invalidValue` for empty or ragged sequences, a sequence longer
    ///   than learned positions allow, or a token outside the vocabulary;
    ///   `CrossEntropyError`; the group's collective errors.
    public func accumulateGradients(sequences: [[Int32]], denominator: Int) throws -> (lossSum: Double, targets: Int) {
        precondition(stage.isFirst && stage.isLast, "accumulateGradients runs a whole model; a pipeline stage runs stageForward/stageBackward")
        guard dropoutProbability >= 0 && dropoutProbability < 1 else {
            throw TrainingError.invalidValue(name: "--dropout", expected: "in [0, 1)", found: "\(dropoutProbability)")
        }
        let (output, saved) = try stageForward(sequences: sequences, input: nil, denominator: denominator)
        lastSavedActivationBytes = saved.savedBytes
        _ = try stageBackward(consume saved, outputGradient: nil)   // its blocks are freed one by one
        guard case .loss(let lossSum, let targets) = output else { preconditionFailure("a whole model ends in its loss") }
        return (lossSum, targets)
    }

    /// The pass of one micro-batch of `sequences × length` rows, with its dropout masks (drawn
    /// at `dropoutPosition`, set by the session before the micro-batch's forward).
    func makePass(sequences: Int, length: Int) -> TrainingPass {
        let dropout = dropoutProbability > 0
            ? DropoutPlan(probability: dropoutProbability, random: CounterRandom(seed: dropoutSeed),
                          step: dropoutPosition.step, firstRow: dropoutPosition.firstSequence * length,
                          queryHeads: plan.queryHeads, totalHeads: configuration.headCount) : nil
        return TrainingPass(group: group, pool: pool, sequences: sequences, sequenceLength: length, dropout: dropout,
                            overlap: tensorOverlap)
    }

    /// Inputs `[B·L]` (first L of each sequence), targets `[B·L]` (last L) and L, checked.
    func split(_ sequences: [[Int32]]) throws -> ([Int32], [Int32], Int) {
        guard let first = sequences.first, first.count >= 2 else {
            throw TrainingError.invalidValue(name: "sequences", expected: "at least one of at least 2 tokens",
                                             found: "\(sequences.count) sequences of \(sequences.first?.count ?? 0)")
        }
        let length = first.count - 1
        if let ragged = sequences.first(where: { $0.count != first.count }) {
            throw TrainingError.invalidValue(name: "sequence length", expected: "\(first.count) tokens in every sequence",
                                             found: "\(ragged.count)")
        }
        if configuration.positionEncoding == .learned && length > configuration.contextLength {
            throw TrainingError.invalidValue(name: "--seq-len", expected: "<= \(configuration.contextLength) (learned positions)",
                                             found: "\(length)")
        }
        let vocabulary = configuration.vocabularySize
        if let bad = sequences.lazy.flatMap({ $0 }).first(where: { $0 < 0 || Int($0) >= vocabulary }) {
            throw TrainingError.invalidValue(name: "token id", expected: "in 0..<\(vocabulary)", found: "\(bad)")
        }
        return (sequences.flatMap { $0.dropLast() }, sequences.flatMap { $0.dropFirst() }, length)
    }
}
