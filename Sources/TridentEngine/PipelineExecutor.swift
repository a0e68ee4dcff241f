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
    /// Records each micro-batch's forward as a span (nil: not traced).
    public var trace: TraceRecorder?

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

    /// Runs `chunks` through the pipeline: they are grouped into consecutive micro-batches
    /// (`microBatchRanges`; default `min(chunks, stages)` of them, as even in tokens as the
    /// chunks allow), each run as one fused pass per stage, following this stage's part of
    /// `schedule` (default: `PipelineSchedule.forwardOnly`).
    ///
    /// Every rank of `pipelineGroup` must call this with the same chunks, grouping and schedule.
    /// - Returns: on the last stage, each chunk's requested logits in chunk order (`[]` for
    ///   `.none`, `[vocabulary]` for `.last`, `[tokens, vocabulary]` for `.all`); `nil` on
    ///   other stages.
    /// - Throws: `ActivationFrameError` for a malformed frame from the previous stage,
    ///   `PipelineStageFailure` when an earlier stage failed, `CollectiveError` for transport
    ///   failures, the stage's errors (e.g. `KVCacheError`). A stage that throws first sends an
    ///   abort frame to the next stage, so the failure reaches the last stage at once.
    public func run(_ chunks: [SequenceChunk], microBatches count: Int? = nil,
                    schedule: PipelineSchedule? = nil) throws -> [[Float]]? {
        let stages = pipelineGroup.size, s = pipelineGroup.rank
        let groups = Self.microBatchRanges(chunks, count: count ?? min(chunks.count, stages))
        let microBatches = groups.map { Array(chunks[$0]) }
        let schedule = schedule ?? .forwardOnly(stages: stages, microBatches: microBatches.count)
        precondition(schedule.stages == stages, "schedule has \(schedule.stages) stages, pipeline group \(stages)")
        precondition(schedule.microBatches == microBatches.count,
                     "schedule has \(schedule.microBatches) micro-batches, \(microBatches.count) given")
        do {
            return try execute(schedule.actions[s], microBatches)?.flatMap { $0 }
        } catch {
            // Tell the next stage now; otherwise it would wait for its receive deadline.
            if s < stages - 1 {
                try? ActivationFrame.sendAbort(reason: "\(error)", over: pipelineGroup, to: s + 1, tag: tag)
            }
            throw error
        }
    }

    /// Splits `chunks` into `count` consecutive non-empty groups (fewer when there are fewer
    /// chunks) whose token counts are as even as the chunk boundaries allow: group `g` ends at
    /// the first chunk boundary where the running total reaches `(g + 1) / count` of all tokens.
    public static func microBatchRanges(_ chunks: [SequenceChunk], count: Int) -> [Range<Int>] {
        precondition(count >= 1, "at least one micro-batch")
        let groups = min(count, chunks.count)
        guard groups > 1 else { return chunks.isEmpty ? [] : [0 ..< chunks.count] }
        let total = chunks.reduce(0) { $0 + $1.tokens.count }
        var ranges: [Range<Int>] = []
        var start = 0, running = 0
        for (i, chunk) in chunks.enumerated() {
            running += chunk.tokens.count
            let g = ranges.count
            let chunksLeft = chunks.count - i - 1, groupsLeft = groups - g - 1
            // Close the group at its share of the tokens, or when every later group needs one of the remaining chunks.
            if g < groups - 1 && (running * groups >= (g + 1) * total || chunksLeft == groupsLeft) {
                ranges.append(start ..< i + 1)
                start = i + 1
            }
        }
        ranges.append(start ..< chunks.count)
        return ranges
    }

    /// Runs this stage's actions over the micro-batches (each a group of chunks).
    /// - Returns: the last stage's logits per micro-batch and chunk, nil elsewhere.
    private func execute(_ actions: [PipelineAction], _ microBatches: [[SequenceChunk]]) throws -> [[[Float]]]? {
        var inputs: [Int: [Float]] = [:]     // received activations, [rows, hidden] per micro-batch
        var outputs: [Int: [Float]] = [:]    // produced activations awaiting their send
        var logits = [[[Float]]](repeating: [], count: microBatches.count)
        for action in actions {
            switch action {
            case let .receiveActivations(m, from):
                inputs[m] = try receive(microBatches[m], index: m, from: from)
            case .forward(let m):
                let hidden = stage.isFirst ? nil : inputs.removeValue(forKey: m)
                precondition(stage.isFirst || hidden != nil, "forward of micro-batch \(m) before its activations arrived")
                let output: LlamaStage.Output
                if let trace {
                    output = try trace.record("micro-batch \(m)", .forward, microBatch: m) {
                        try stage.forward(microBatches[m], hidden: hidden)
                    }
                } else {
                    output = try stage.forward(microBatches[m], hidden: hidden)
                }
                switch output {
                case .activations(let x): outputs[m] = x
                case .logits(let perChunk): logits[m] = perChunk
                }
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

    /// The frame header a micro-batch travels with: its index, its first chunk's slot and
    /// start, and its rows.
    private static func expectation(_ microBatch: [SequenceChunk], index: Int,
                                    hiddenSize: Int) -> ActivationFrameExpectation {
        ActivationFrameExpectation(hiddenSize: hiddenSize, microBatch: index, slot: microBatch[0].slot,
                                   start: microBatch[0].start,
                                   tokenCount: microBatch.reduce(0) { $0 + $1.tokens.count })
    }

    private func receive(_ microBatch: [SequenceChunk], index: Int, from peer: Int) throws -> [Float] {
        let expected = Self.expectation(microBatch, index: index, hiddenSize: stage.configuration.hiddenSize)
        return try ActivationFrame.receive(over: pipelineGroup, from: peer, tag: tag, expected: expected,
                                           limits: limits).values
    }

    private func send(_ values: [Float], _ microBatch: [SequenceChunk], index: Int, to peer: Int) throws {
        let e = Self.expectation(microBatch, index: index, hiddenSize: stage.configuration.hiddenSize)
        let header = ActivationFrameHeader(microBatch: index, slot: e.slot!, start: e.start!,
                                           tokenCount: e.tokenCount!, hiddenSize: e.hiddenSize)
        try ActivationFrame(header: header, values: values).send(over: pipelineGroup, to: peer, tag: tag)
    }
}
