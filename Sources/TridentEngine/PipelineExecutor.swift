import TridentCollectives
import TridentModel

/// One unit of pipelined work: positions `start ..< start + tokens.count` of the sequence in
/// KV-cache `slot`. Micro-batches of one step are separate sequences (slots) or consecutive
/// chunks of one prompt; chunks of one sequence must appear in position order.
public struct PipelineMicroBatch: Sendable, Equatable {
    public var slot: Int
    public var start: Int
    /// Token ids; every stage needs them (the first embeds them, later stages use the count).
    public var tokens: [Int32]
    /// Logits the last stage computes for this micro-batch.
    public var logits: LogitsRequest

    public init(slot: Int, start: Int, tokens: [Int32], logits: LogitsRequest) {
        precondition(slot >= 0 && start >= 0 && !tokens.isEmpty, "a micro-batch has a slot, a start and tokens")
        self.slot = slot
        self.start = start
        self.tokens = tokens
        self.logits = logits
    }
}

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

    /// Tag of logits sent from the last stage to the driver's stage.
    public static let logitsTag = 0x5050_4C47

    /// Moves the last stage's logits (the result of `run`) to stage `destination`, e.g. the
    /// driver on stage 0 that samples. Every rank of `pipelineGroup` must call this after `run`
    /// with the same micro-batches; sizes follow each micro-batch's `logits` request.
    /// - Returns: the logits per micro-batch on `destination` (and on the last stage); nil elsewhere.
    public func deliverLogits(_ logits: [[Float]]?, for microBatches: [PipelineMicroBatch],
                              to destination: Int = 0) throws -> [[Float]]? {
        let last = pipelineGroup.size - 1, rank = pipelineGroup.rank
        precondition(destination >= 0 && destination <= last, "no stage \(destination) in a pipeline of \(last + 1)")
        precondition((rank == last) == (logits != nil), "only the last stage has logits to deliver")
        guard destination != last else { return logits }
        let vocabulary = stage.configuration.vocabularySize
        if rank == last {
            for values in logits! where !values.isEmpty {
                try pipelineGroup.send(values, to: destination, tag: Self.logitsTag)
            }
            return logits
        }
        guard rank == destination else { return nil }
        return try microBatches.map { mb in
            let rows = switch mb.logits { case .none: 0; case .last: 1; case .all: mb.tokens.count }
            guard rows > 0 else { return [] }
            return try pipelineGroup.receive(Float.self, count: rows * vocabulary, from: last, tag: Self.logitsTag)
        }
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
