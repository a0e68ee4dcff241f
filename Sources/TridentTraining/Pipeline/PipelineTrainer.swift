import TridentCollectives
import TridentEngine
import TridentKernels
import TridentModel

/// Runs the forward and backward of one optimizer step's micro-batches on one pipeline stage,
/// following that stage's action list of a validated `PipelineSchedule` (GPipe or 1F1B).
///
/// Stage `s` is rank `s` of `pipelineGroup`; with tensor parallelism each tensor rank of a
/// stage runs its own trainer over its own pipeline group (the ranks with its tensor and data
/// coordinates), so frames pass between counterparts. A forward saves the micro-batch's
/// contexts until its backward; activations travel forward as `ActivationFrame`s, the gradient
/// of each stage's input travels back as a frame of kind `gradientKind`, both validated on
/// receipt (micro-batch, rows, hidden size). The last stage computes the loss per micro-batch.
///
/// A stage that fails sends abort frames to both neighbours (activations tag to the next,
/// gradients tag to the previous), so the failure runs along the pipeline at once; every
/// receive is bounded by the communicator's deadline.
public final class PipelineTrainer {
    public let model: LlamaTrainingModel
    public let pipelineGroup: any Communicator
    public let schedule: PipelineTrainingSchedule
    public let limits: ActivationFrameLimits
    /// The forward/backward part of the last step on this stage.
    public private(set) var lastStep = PipelineStepStatistics()
    private var programs: [Int: [PipelineAction]] = [:]     // by micro-batch count
    private let activationTag = MessageTag.activations.rawValue
    private let gradientTag = MessageTag.gradients.rawValue

    /// - Precondition: `model.stage` is stage `pipelineGroup.rank` of `pipelineGroup.size`.
    public init(model: LlamaTrainingModel, pipelineGroup: any Communicator, schedule: PipelineTrainingSchedule,
                limits: ActivationFrameLimits = ActivationFrameLimits()) {
        precondition(model.stage.isFirst == (pipelineGroup.rank == 0)
                     && model.stage.isLast == (pipelineGroup.rank == pipelineGroup.size - 1),
                     "pipeline rank \(pipelineGroup.rank) of \(pipelineGroup.size) holds \(model.stage)")
        self.model = model
        self.pipelineGroup = pipelineGroup
        self.schedule = schedule
        self.limits = limits
    }

    /// Runs forward and backward of every micro-batch in schedule order, accumulating gradients.
    /// Every rank of the pipeline (and tensor) group must call this with the same micro-batches.
    /// - Parameters:
    ///   - microBatches: the step's micro-batches on this replica, each B sequences of L + 1 tokens.
    ///   - denominator: the step's global target count.
    ///   - willForward: called before micro-batch `m`'s forward (sets its dropout position).
    ///   - lastBackwardWillStart: called before the backward of the last micro-batch (the one
    ///     that makes gradients final: data-parallel buckets listen from then on).
    /// - Returns: Σ loss over this replica's targets on the last stage, 0 on the others.
    /// - Throws: `ActivationFrameError`, `PipelineStageFailure`, `CollectiveError`, model errors.
    public func run(microBatches: [[[Int32]]], denominator: Int, willForward: (Int) -> Void = { _ in },
                    lastBackwardWillStart: () -> Void = {}) throws -> Double {
        let s = pipelineGroup.rank, stages = pipelineGroup.size
        do {
            let actions = try program(microBatches: microBatches.count)
            return try execute(actions, microBatches, denominator: denominator, willForward: willForward,
                               lastBackwardWillStart: lastBackwardWillStart)
        } catch {
            // Tell both neighbours now; otherwise they would wait for their receive deadlines.
            if s < stages - 1 {
                try? ActivationFrame.sendAbort(reason: "\(error)", over: pipelineGroup, to: s + 1, tag: activationTag)
            }
            if s > 0 {
                try? ActivationFrame.sendAbort(reason: "\(error)", over: pipelineGroup, to: s - 1, tag: gradientTag)
            }
            throw error
        }
    }

    /// This stage's validated action list for `count` micro-batches (built once per count).
    private func program(microBatches count: Int) throws -> [PipelineAction] {
        if let cached = programs[count] { return cached }
        let actions = try schedule.actions(stages: pipelineGroup.size, microBatches: count).actions[pipelineGroup.rank]
        programs[count] = actions
        return actions
    }

    private func execute(_ actions: [PipelineAction], _ microBatches: [[[Int32]]], denominator: Int,
                         willForward: (Int) -> Void, lastBackwardWillStart: () -> Void) throws -> Double {
        let clock = ContinuousClock()
        let began = clock.now
        var statistics = PipelineStepStatistics()
        var inputs: [Int: ActivationBuffer] = [:]        // received activations [rows, hidden]
        var outputs: [Int: ActivationBuffer] = [:]       // activations or input gradients awaiting their send
        var gradients: [Int: ActivationBuffer] = [:]     // received output gradients [rows, hidden]
        var saved: [Int: StageMicroBatch] = [:]
        var savedBytes = 0
        var lossSum: Double = 0
        func timed<T>(_ compute: Bool, _ body: () throws -> T) rethrows -> T {
            let start = clock.now
            defer {
                let elapsed = (clock.now - start).seconds
                if compute { statistics.computeSeconds += elapsed } else { statistics.communicationSeconds += elapsed }
            }
            return try body()
        }
        for action in actions {
            let m = action.microBatch
            let rows = microBatches[m].count * (microBatches[m].first.map { $0.count - 1 } ?? 0)
            switch action {
            case let .receiveActivations(_, from):
                inputs[m] = try timed(false) { try receive(m, rows: rows, from: from, kind: .activations) }
            case .forward:
                willForward(m)
                let (output, context) = try timed(true) {
                    try model.stageForward(sequences: microBatches[m], input: inputs.removeValue(forKey: m),
                                           denominator: denominator)
                }
                saved[m] = context
                savedBytes += context.savedBytes
                statistics.peakSavedMicroBatches = max(statistics.peakSavedMicroBatches, saved.count)
                statistics.peakSavedBytes = max(statistics.peakSavedBytes, savedBytes)
                switch output {
                case .activations(let x): outputs[m] = x
                case .loss(let sum, _): lossSum += sum
                }
            case let .sendActivations(_, to):
                try timed(false) { try send(outputs.removeValue(forKey: m)!, m, to: to, kind: .activations) }
            case let .receiveGradients(_, from):
                gradients[m] = try timed(false) { try receive(m, rows: rows, from: from, kind: .gradients) }
            case .backward:
                guard let context = saved.removeValue(forKey: m) else {
                    preconditionFailure("backward of micro-batch \(m) before its forward")
                }
                savedBytes -= context.savedBytes
                if m == microBatches.count - 1 { lastBackwardWillStart() }
                let dx = try timed(true) {
                    try model.stageBackward(context, outputGradient: gradients.removeValue(forKey: m))
                }
                if let dx { outputs[m] = dx }
            case let .sendGradients(_, to):
                try timed(false) { try send(outputs.removeValue(forKey: m)!, m, to: to, kind: .gradients) }
            }
        }
        statistics.seconds = (clock.now - began).seconds
        lastStep = statistics
        return lossSum
    }

    private enum FrameKind { case activations, gradients }

    private func receive(_ m: Int, rows: Int, from peer: Int, kind: FrameKind) throws -> ActivationBuffer {
        var expected = ActivationFrameExpectation(hiddenSize: model.configuration.hiddenSize, microBatch: m, slot: 0,
                                                  start: 0, tokenCount: rows)
        if kind == .gradients { expected.kind = ActivationFrameHeader.gradientKind }
        let frame = try ActivationFrame.receive(over: pipelineGroup, from: peer,
                                                tag: kind == .gradients ? gradientTag : activationTag,
                                                expected: expected, limits: limits)
        return ActivationBuffer(rows: rows, columns: model.configuration.hiddenSize, values: frame.values)
    }

    private func send(_ values: ActivationBuffer, _ m: Int, to peer: Int, kind: FrameKind) throws {
        var header = ActivationFrameHeader(microBatch: m, slot: 0, start: 0, tokenCount: values.rows,
                                           hiddenSize: values.columns)
        if kind == .gradients { header.kind = ActivationFrameHeader.gradientKind }
        try ActivationFrame(header: header, values: values.toArray())
            .send(over: pipelineGroup, to: peer, tag: kind == .gradients ? gradientTag : activationTag)
    }
}
