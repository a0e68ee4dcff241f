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
    /// - Throws: `PipelineScheduleError` (a program that would not run: a builder bug),
    ///   `InterleavedScheduleError` (M not a multiple of P), `TrainingError.invalidValue`
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
