import TridentEngine

/// The pipeline schedule of a training step (`--schedule`): which order each rank runs the
/// forwards and backwards of the step's micro-batches in.
public enum PipelineTrainingSchedule: String, Sendable, CaseIterable, Codable {
    /// All forwards, then all backwards: a stage holds every micro-batch's activations.
    case gpipe
    /// One forward, one backward after a warm-up (PipeDream-Flush): stage `s` of `P` holds at
    /// most `P - s` micro-batches' activations.
    case oneFOneB = "1f1b"
    /// Megatron's interleaved 1F1B: each rank holds V non-adjacent chunks of blocks
    /// (`--virtual-stages`); M must be a multiple of P.
    case interleaved

    /// Rank `rank`'s validated program over `stages` ranks of `chunks` chunks each.
    /// - Throws: `PipelineScheduleError` (GPipe/1F1B builder bug), `InterleavedScheduleError`
    ///   (M not a multiple of P, or a program that would not run), `TrainingError.invalidValue`
    ///   for chunks other than 1 outside the interleaved schedule.
    public func program(rank: Int, stages: Int, chunks: Int, microBatches: Int) throws -> [ChunkedAction] {
        switch self {
        case .interleaved:
            guard stages >= 2 else {
                throw TrainingError.invalidValue(name: "--schedule interleaved", expected: "--pp 2 or more", found: "--pp \(stages)")
            }
            return try InterleavedSchedule(ranks: stages, chunks: chunks, microBatches: microBatches).actions[rank]
        case .gpipe, .oneFOneB:
            guard chunks == 1 else {
                throw TrainingError.invalidValue(name: "--virtual-stages", expected: "1 with --schedule \(rawValue)",
                                                 found: "\(chunks)")
            }
            let schedule: PipelineSchedule = self == .gpipe
                ? .gpipe(stages: stages, microBatches: microBatches, includeBackward: true)
                : .oneFOneB(stages: stages, microBatches: microBatches)
            _ = try PipelineScheduleValidator().simulate(schedule)
            return schedule.actions[rank].map { ChunkedAction($0) }
        }
    }

    /// The fraction of a step each rank idles with uniform stage costs: `(P - 1) / (M + P - 1)`,
    /// or `(P - 1) / (V·M + P - 1)` interleaved.
    public func predictedBubble(stages: Int, chunks: Int = 1, microBatches: Int) -> Double {
        self == .interleaved
            ? InterleavedSchedule.bubbleFraction(ranks: stages, chunks: chunks, microBatches: microBatches)
            : PipelineSchedule.bubbleFraction(stages: stages, microBatches: microBatches)
    }
}

extension ChunkedAction {
    /// The same action of a one-chunk schedule.
    init(_ action: PipelineAction) {
        switch action {
        case let .receiveActivations(m, from): self.init(.receiveActivations, chunk: 0, microBatch: m, peer: from)
        case let .forward(m): self.init(.forward, chunk: 0, microBatch: m)
        case let .sendActivations(m, to): self.init(.sendActivations, chunk: 0, microBatch: m, peer: to)
        case let .receiveGradients(m, from): self.init(.receiveGradients, chunk: 0, microBatch: m, peer: from)
        case let .backward(m): self.init(.backward, chunk: 0, microBatch: m)
        case let .sendGradients(m, to): self.init(.sendGradients, chunk: 0, microBatch: m, peer: to)
        }
    }
}
