import TridentEngine

/// The pipeline schedule of a training step (`--schedule`): which order each stage runs the
/// forwards and backwards of the step's micro-batches in.
public enum PipelineTrainingSchedule: String, Sendable, CaseIterable, Codable {
    /// All forwards, then all backwards: a stage holds every micro-batch's activations.
    case gpipe
    /// One forward, one backward after a warm-up (PipeDream-Flush): stage `s` of `P` holds at
    /// most `P - s` micro-batches' activations.
    case oneFOneB = "1f1b"

    /// The validated action lists of `stages` stages over `microBatches` micro-batches.
    /// - Throws: `PipelineScheduleError` if the builder produced an invalid schedule (a bug).
    public func actions(stages: Int, microBatches: Int) throws -> PipelineSchedule {
        let schedule: PipelineSchedule
        switch self {
        case .gpipe: schedule = .gpipe(stages: stages, microBatches: microBatches, includeBackward: true)
        case .oneFOneB: schedule = .oneFOneB(stages: stages, microBatches: microBatches)
        }
        _ = try PipelineScheduleValidator().simulate(schedule)
        return schedule
    }

    /// The fraction of a step each stage idles with uniform stage costs: `(P - 1) / (M + P - 1)`.
    public static func predictedBubble(stages: Int, microBatches: Int) -> Double {
        PipelineSchedule.bubbleFraction(stages: stages, microBatches: microBatches)
    }
}
