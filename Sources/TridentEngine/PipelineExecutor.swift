import TridentCollectives
import TridentModel

/// Runs forward-only pipeline schedules for one pipeline stage.
///
/// Stage `s` is rank `s` of `pipelineGroup`; its `LlamaStage` holds the blocks of stage `s`
/// (with the embedding on stage 0 and the LM head on the last stage). Activations travel as
/// `ActivationFrame`s, validated on receipt. With tensor parallelism, each tensor-parallel
/// rank of a stage runs its own executor over its own pipeline group (the ranks with the same
/// tensor index), so frames pass between counterparts.
public final class PipelineExecutor: @unchecked Sendable {
    public let stage: LlamaStage
    public let pipelineGroup: any Communicator
    /// Tag of activation frames on `pipelineGroup`.
    public let tag: Int
    public let limits: ActivationFrameLimits

    /// - Precondition: `stage` has the embedding exactly when it is rank 0 of `pipelineGroup`
    ///   and the LM head exactly when it is the last rank.
    public init(stage: LlamaStage, pipelineGroup: any Communicator, tag: Int = ActivationFrame.activationTag,
                limits: ActivationFrameLimits = ActivationFrameLimits()) {
        let rank = pipelineGroup.rank, size = pipelineGroup.size
        precondition(stage.isFirst == (rank == 0),
                     "pipeline rank \(rank) of \(size): the embedding belongs to stage 0 only")
        precondition(stage.isLast == (rank == size - 1),
                     "pipeline rank \(rank) of \(size): the LM head belongs to the last stage only")
        self.stage = stage
        self.pipelineGroup = pipelineGroup
        self.tag = tag
        self.limits = limits
    }

    /// Runs `microBatches` through the pipeline following this stage's part of `schedule`
    /// (default: `PipelineSchedule.forwardOnly`).
    ///
    /// Every rank of `pipelineGroup` must call this with the same micro-batches and schedule.
    /// - Returns: on the last stage, each micro-batch's requested logits in micro-batch order
    ///   (`[]` for `.none`, `[vocabulary]` for `.last`, `[tokens, vocabulary]` for `.all`);
    ///   `nil` on other stages.
    /// - Throws: `ActivationFrameError` for a malformed frame from the previous stage,
    ///   `PipelineStageFailure` when an earlier stage failed, `CollectiveError` for transport
    ///   failures, the stage's errors (e.g. `KVCacheError`). A stage that throws first sends an
    ///   abort frame to the next stage, so the failure reaches the last stage at once.
    public func run(_ microBatches: [PipelineMicroBatch], schedule: PipelineSchedule? = nil) throws -> [[Float]]? {
        let stages = pipelineGroup.size, s = pipelineGroup.rank
        let schedule = schedule ?? .forwardOnly(stages: stages, microBatches: microBatches.count)
        precondition(schedule.stages == stages, "schedule has \(schedule.stages) stages, pipeline group \(stages)")
        precondition(schedule.microBatches == microBatches.count,
                     "schedule has \(schedule.microBatches) micro-batches, \(microBatches.count) given")
        do {
            return try execute(schedule.actions[s], microBatches)
        } catch {
            // Tell the next stage now; otherwise it would wait for its receive deadline.
            if s < stages - 1 {
                try? ActivationFrame.sendAbort(reason: "\(error)", over: pipelineGroup, to: s + 1, tag: tag)
            }
            throw error
        }
    }

    /// Runs this stage's actions. - Returns: the last stage's logits, nil elsewhere.
    private func execute(_ actions: [PipelineAction], _ microBatches: [PipelineMicroBatch]) throws -> [[Float]]? {
        var inputs: [Int: [Float]] = [:]     // received activations, [tokens, hidden] per micro-batch
        var outputs: [Int: [Float]] = [:]    // produced activations awaiting their send
        var logits = [[Float]](repeating: [], count: microBatches.count)
        for action in actions {
            switch action {
            case let .receiveActivations(m, from):
                inputs[m] = try receive(microBatches[m], index: m, from: from)
            case .forward(let m):
                let mb = microBatches[m]
                let hidden = stage.isFirst ? nil : inputs.removeValue(forKey: m)
                precondition(stage.isFirst || hidden != nil, "forward of micro-batch \(m) before its activations arrived")
                let result = try stage.forward(tokens: mb.tokens, hidden: hidden, slot: mb.slot, start: mb.start,
                                               logits: stage.isLast ? mb.logits : .none)
                if stage.isLast { logits[m] = result } else { outputs[m] = result }
            case let .sendActivations(m, to):
                guard let values = outputs.removeValue(forKey: m) else {
                    preconditionFailure("send of micro-batch \(m) before its forward")
                }
                try send(values, microBatches[m], index: m, to: to)
            case .receiveGradients, .backward, .sendGradients:
                preconditionFailure("PipelineExecutor runs inference schedules only; found \(action)")
            }
        }
        return stage.isLast ? logits : nil
    }

    private func receive(_ mb: PipelineMicroBatch, index: Int, from peer: Int) throws -> [Float] {
        let expected = ActivationFrameExpectation(hiddenSize: stage.configuration.hiddenSize, microBatch: index,
                                                  slot: mb.slot, start: mb.start, tokenCount: mb.tokens.count)
        return try ActivationFrame.receive(over: pipelineGroup, from: peer, tag: tag, expected: expected,
                                           limits: limits).values
    }

    private func send(_ values: [Float], _ mb: PipelineMicroBatch, index: Int, to peer: Int) throws {
        let header = ActivationFrameHeader(microBatch: index, slot: mb.slot, start: mb.start,
                                           tokenCount: mb.tokens.count, hiddenSize: stage.configuration.hiddenSize)
        try ActivationFrame(header: header, values: values).send(over: pipelineGroup, to: peer, tag: tag)
    }
}
