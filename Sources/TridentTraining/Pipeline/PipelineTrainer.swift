import TridentCollectives
import TridentEngine
import TridentKernels
import TridentModel

/// Runs the forward and backward of one optimizer step's micro-batches on one pipeline rank,
/// following that rank's action list of a validated schedule: GPipe or 1F1B
/// (`PipelineSchedule`, one model chunk per rank) or interleaved 1F1B (`InterleavedSchedule`,
/// `chunks.count` = V chunks per rank, chunk `c` being virtual stage `c·P + rank`).
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
    /// This rank's model chunks, in chunk order (one except under interleaved 1F1B).
    public let chunks: [LlamaTrainingModel]
    public let pipelineGroup: any Communicator
    public let schedule: PipelineTrainingSchedule
    public let limits: ActivationFrameLimits
    /// The forward/backward part of the last step on this stage.
    public private(set) var lastStep = PipelineStepStatistics()
    public let virtualStages: Int
    /// Records each action as a span on the main row (nil: not traced).
    public var trace: TraceRecorder?
    private var programs: [Int: [ChunkedAction]] = [:]     // by micro-batch count
    private let activationTag = MessageTag.activations.rawValue
    private let gradientTag = MessageTag.gradients.rawValue
    /// Background sends when the group's sends wait for their receive (MPI); nil: sends return at once.
    private let sendQueues: PipelineSendQueues?

    /// - Precondition: chunk `c` holds virtual stage `c·P + rank` of `P·V` (V = `chunks.count`;
    ///   V > 1 only with the interleaved schedule).
    public init(chunks: [LlamaTrainingModel], pipelineGroup: any Communicator, schedule: PipelineTrainingSchedule,
                limits: ActivationFrameLimits = ActivationFrameLimits()) {
        let p = pipelineGroup.size, r = pipelineGroup.rank, v = chunks.count
        precondition(v >= 1 && (v == 1 || schedule == .interleaved), "\(v) chunks need the interleaved schedule")
        for (c, chunk) in chunks.enumerated() {
            precondition(chunk.stage.isFirst == (c * p + r == 0) && chunk.stage.isLast == (c * p + r == p * v - 1),
                         "pipeline rank \(r) of \(p), chunk \(c) of \(v) holds \(chunk.stage)")
        }
        self.chunks = chunks
        virtualStages = v
        self.pipelineGroup = pipelineGroup
        self.schedule = schedule
        self.limits = limits
        sendQueues = pipelineGroup.sendsAreBuffered ? nil : PipelineSendQueues()
    }

    /// Runs forward and backward of every micro-batch in schedule order, accumulating gradients.
    /// Every rank of the pipeline (and tensor) group must call this with the same micro-batches.
    /// - Parameters:
    ///   - microBatches: the step's micro-batches on this replica, each B sequences of L + 1 tokens.
    ///   - denominator: the step's global target count.
    ///   - willForward: called before micro-batch `m`'s forward (sets its dropout position).
    ///   - gradientReady: told each parameter (index into the chunks' parameters in chunk order)
    ///     whose gradient is final, during the backward of the last micro-batch on its chunk
    ///     (data-parallel buckets start from it); nil: nobody listens.
    /// - Returns: Σ loss over this replica's targets on the last stage, 0 on the others.
    /// - Throws: `ActivationFrameError`, `PipelineStageFailure`, `CollectiveError`, model errors.
    public func run(microBatches: [[[Int32]]], denominator: Int, willForward: (Int) -> Void = { _ in },
                    gradientReady: ((Int) -> Void)? = nil) throws -> Double {
        let s = pipelineGroup.rank, stages = pipelineGroup.size
        do {
            let actions = try program(microBatches: microBatches.count)
            defer { for chunk in chunks { chunk.gradientReady = nil } }
            let loss = try execute(actions, microBatches, denominator: denominator, willForward: willForward,
                                   gradientReady: gradientReady)
            try sendQueues?.waitAll()
            return loss
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

    /// This rank's validated action list for `count` micro-batches (built once per count).
    private func program(microBatches count: Int) throws -> [ChunkedAction] {
        if let cached = programs[count] { return cached }
        let actions = try schedule.program(rank: pipelineGroup.rank, stages: pipelineGroup.size, chunks: virtualStages,
                                           microBatches: count)
        programs[count] = actions
        return actions
    }

    private func execute(_ actions: [ChunkedAction], _ microBatches: [[[Int32]]], denominator: Int,
                         willForward: (Int) -> Void, gradientReady: ((Int) -> Void)?) throws -> Double {
        let clock = ContinuousClock()
        let began = clock.now
        let count = microBatches.count, p = pipelineGroup.size, r = pipelineGroup.rank
        var statistics = PipelineStepStatistics()
        // Keyed by chunk · M + micro-batch.
        var inputs: [Int: ActivationBuffer] = [:]        // received activations [rows, hidden]
        var outputs: [Int: ActivationBuffer] = [:]       // activations or input gradients awaiting their send
        var gradients: [Int: ActivationBuffer] = [:]     // received output gradients [rows, hidden]
        var saved: [Int: StageMicroBatch] = [:]
        var savedBytes = 0
        var lossSum: Double = 0
        var offsets: [Int] = [], total = 0
        for chunk in chunks { offsets.append(total); total += chunk.parameters.count }
        let trace = self.trace, v = virtualStages
        func timed<T>(_ kind: TraceKind, _ m: Int, _ c: Int, _ body: () throws -> T) rethrows -> T {
            let start = clock.now
            defer {
                let elapsed = (clock.now - start).seconds
                if kind == .forward || kind == .backward { statistics.computeSeconds += elapsed }
                else { statistics.communicationSeconds += elapsed }
            }
            guard let trace else { return try body() }
            return try trace.record(v > 1 ? "\(kind.rawValue) c\(c)" : kind.rawValue, kind, microBatch: m, body)
        }
        for action in actions {
            let m = action.microBatch, c = action.chunk, key = c * count + m
            let rows = microBatches[m].count * (microBatches[m].first.map { $0.count - 1 } ?? 0)
            let virtualStage = c * p + r
            switch action.kind {
            case .receiveActivations:
                inputs[key] = try timed(.receive, m, c) {
                    try receive(m, stage: virtualStage, rows: rows, from: action.peer, kind: .activations)
                }
            case .forward:
                willForward(m)
                let (output, context) = try timed(.forward, m, c) {
                    try chunks[c].stageForward(sequences: microBatches[m], input: inputs.removeValue(forKey: key),
                                               denominator: denominator)
                }
                saved[key] = context
                savedBytes += context.savedBytes
                statistics.peakSavedMicroBatches = max(statistics.peakSavedMicroBatches, saved.count)
                statistics.peakSavedBytes = max(statistics.peakSavedBytes, savedBytes)
                switch output {
                case .activations(let x): outputs[key] = x
                case .loss(let sum, _): lossSum += sum
                }
            case .sendActivations:
                try timed(.send, m, c) {
                    try send(outputs.removeValue(forKey: key)!, m, stage: virtualStage + 1, to: action.peer, kind: .activations)
                }
            case .receiveGradients:
                gradients[key] = try timed(.receive, m, c) {
                    try receive(m, stage: virtualStage, rows: rows, from: action.peer, kind: .gradients)
                }
            case .backward:
                guard let context = saved.removeValue(forKey: key) else {
                    preconditionFailure("backward of chunk \(c), micro-batch \(m) before its forward")
                }
                savedBytes -= context.savedBytes
                // The last micro-batch's backward on a chunk makes that chunk's gradients final.
                if m == count - 1, let gradientReady {
                    let offset = offsets[c]
                    chunks[c].gradientReady = { gradientReady(offset + $0) }
                }
                let dx = try timed(.backward, m, c) {
                    try chunks[c].stageBackward(context, outputGradient: gradients.removeValue(forKey: key))
                }
                if let dx { outputs[key] = dx }
            case .sendGradients:
                try timed(.send, m, c) {
                    try send(outputs.removeValue(forKey: key)!, m, stage: virtualStage - 1, to: action.peer, kind: .gradients)
                }
            }
        }
        statistics.seconds = (clock.now - began).seconds
        lastStep = statistics
        return lossSum
    }

    private enum FrameKind { case activations, gradients }

    private var hiddenSize: Int { chunks[0].configuration.hiddenSize }

    /// Receives micro-batch `m`'s frame for virtual stage `stage` (its `slot` field).
    private func receive(_ m: Int, stage: Int, rows: Int, from peer: Int, kind: FrameKind) throws -> ActivationBuffer {
        var expected = ActivationFrameExpectation(hiddenSize: hiddenSize, microBatch: m, slot: stage, start: 0, tokenCount: rows)
        if kind == .gradients { expected.kind = ActivationFrameHeader.gradientKind }
        let frame = try ActivationFrame.receive(over: pipelineGroup, from: peer,
                                                tag: kind == .gradients ? gradientTag : activationTag,
                                                expected: expected, limits: limits)
        return ActivationBuffer(rows: rows, columns: hiddenSize, values: frame.values)
    }

    /// Sends micro-batch `m`'s frame to virtual stage `stage` on rank `peer`.
    private func send(_ values: ActivationBuffer, _ m: Int, stage: Int, to peer: Int, kind: FrameKind) throws {
        var header = ActivationFrameHeader(microBatch: m, slot: stage, start: 0, tokenCount: values.rows,
                                           hiddenSize: values.columns)
        if kind == .gradients { header.kind = ActivationFrameHeader.gradientKind }
        let frame = ActivationFrame(header: header, values: values.toArray())
        let tag = kind == .gradients ? gradientTag : activationTag
        if let sendQueues { return try sendQueues.send(frame, over: pipelineGroup, to: peer, tag: tag) }
        try frame.send(over: pipelineGroup, to: peer, tag: tag)
    }
}
