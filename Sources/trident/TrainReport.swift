import Foundation
import TridentCollectives
import TridentEngine
import TridentTraining

/// The `--json` line of one optimizer step of `trident train` (field names are a contract).
struct TrainStepLine: Encodable {
    var step: Int
    var loss: Double?
    var gradNorm: Double?
    var lr: Double
    var tokens: Int
    var tokensPerSecond: Double?
    var seconds: Double

    enum CodingKeys: String, CodingKey {
        case step, loss, lr, tokens, seconds
        case gradNorm = "grad_norm"
        case tokensPerSecond = "tokens_per_second"
    }

    init(_ stats: StepStatistics) {
        step = stats.step
        loss = JSONLine.finite(stats.loss)
        gradNorm = JSONLine.finite(stats.gradientNorm)
        lr = stats.learningRate
        tokens = stats.tokens
        tokensPerSecond = JSONLine.finite(stats.tokensPerSecond)
        seconds = stats.seconds
    }
}

/// One rank of the last line: the fields of `generate --json`'s ranks plus the communication
/// this rank waited for (tensor collectives and the data-parallel wait the backward did not hide).
struct TrainRankReport: Encodable {
    var base: RankStatistics
    var exposedCommunicationSeconds: Double
    /// Peak saved activations, and with --pp this stage's measured bubble.
    var pipeline: PipelineRankReport? = nil
    /// Bytes of AdamW moments this rank holds (about 1/--dp of them with --zero 1).
    var optimizerStateBytes: Int = 0
    /// Tensor-group all-reduce seconds run while the rank computed (`--tp-comm-overlap`).
    var hiddenTensorCommunicationSeconds: Double = 0

    enum CodingKeys: String, CodingKey {
        case exposedCommunicationSeconds = "exposed_communication_seconds"
        case optimizerStateBytes = "optimizer_state_bytes"
        case hiddenTensorCommunicationSeconds = "hidden_tensor_communication_seconds"
    }

    func encode(to encoder: any Encoder) throws {
        try base.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(exposedCommunicationSeconds, forKey: .exposedCommunicationSeconds)
        try container.encode(optimizerStateBytes, forKey: .optimizerStateBytes)
        try container.encode(hiddenTensorCommunicationSeconds, forKey: .hiddenTensorCommunicationSeconds)
        try pipeline?.encode(to: encoder)
    }
}

/// A stage's part of a rank line: the most micro-batches (and bytes) of saved activations it
/// held at once (a whole model: one micro-batch), and with --pp the fraction of the
/// forward/backward phase it did not compute.
struct PipelineRankReport: Encodable {
    var idleFraction: Double?
    var peakActivationMicroBatches: Int
    var peakActivationBytes: Int

    enum CodingKeys: String, CodingKey {
        case idleFraction = "idle_fraction"
        case peakActivationMicroBatches = "peak_activation_micro_batches"
        case peakActivationBytes = "peak_activation_bytes"
    }
}

/// The last `--json` line of `trident train` and `trident bench train`.
struct TrainSummaryLine: Encodable {
    var steps: Int
    var tokens: Int
    var seconds: Double
    var tokensPerSecond: Double?
    var peakRSSBytes: Int
    /// With --pp: the schedule, the mean of the ranks' idle fractions and (P-1)/(M+P-1).
    var schedule: String? = nil
    var meanIdleFraction: Double? = nil
    var predictedBubble: Double? = nil
    /// The grid and batch geometry of the run, so that `trident plan --measure FILE` can
    /// price the same workload (absent from lines written before they were added).
    var tp: Int? = nil
    var pp: Int? = nil
    var dp: Int? = nil
    var seqLen: Int? = nil
    var microBatch: Int? = nil
    var accumulate: Int? = nil
    var recompute: Bool? = nil
    /// `--zero` (0 or 1).
    var zero: Int? = nil
    var ranks: [TrainRankReport]

    enum CodingKeys: String, CodingKey {
        case steps, tokens, seconds, ranks, schedule, tp, pp, dp, accumulate, recompute, zero
        case seqLen = "seq_len"
        case microBatch = "micro_batch"
        case tokensPerSecond = "tokens_per_second"
        case peakRSSBytes = "peak_rss_bytes"
        case meanIdleFraction = "mean_idle_fraction"
        case predictedBubble = "predicted_bubble"
    }

    /// Adds the pipeline fields (when the ranks carry them).
    mutating func addPipeline(schedule: PipelineTrainingSchedule, stages: Int, chunks: Int = 1, microBatches: Int) {
        let idle = ranks.compactMap { $0.pipeline?.idleFraction }
        guard !idle.isEmpty else { return }
        self.schedule = schedule.rawValue
        meanIdleFraction = idle.reduce(0, +) / Double(idle.count)
        predictedBubble = schedule.predictedBubble(stages: stages, chunks: chunks, microBatches: microBatches)
    }

    /// Adds the layout, the batch geometry, `--recompute` and `--zero`.
    mutating func addWorkload(layout: ParallelLayout, configuration: TrainingConfiguration, recompute: Bool, zero: ZeroStage) {
        self.zero = zero.rawValue
        tp = layout.tensor
        pp = layout.pipeline
        dp = layout.data
        seqLen = configuration.sequenceLength
        microBatch = configuration.microBatch
        accumulate = configuration.accumulation
        self.recompute = recompute
    }

    init(totals: RankTotals, ranks: [TrainRankReport]) {
        steps = totals.steps
        tokens = totals.tokens
        seconds = totals.seconds
        tokensPerSecond = JSONLine.finite(totals.tokensPerSecond)
        peakRSSBytes = ranks.map(\.base.peakRSSBytes).max() ?? ProcessMemory.peakResidentBytes()
        self.ranks = ranks
    }
}

/// The per-step progress line on stderr: step/S, loss, lr, grad-norm, tokens/s, ETA.
enum TrainProgress {
    static func line(_ stats: StepStatistics, of steps: Int, averageSeconds: Double) -> String {
        let remaining = Double(steps - stats.step) * averageSeconds
        let eta = remaining.isFinite ? Int(remaining.rounded()) : 0
        return String(format: "step %d/%d  loss %.4f  lr %.3e  grad-norm %.4f  %.0f tok/s  ETA %d:%02d:%02d",
                      stats.step, steps, stats.loss, stats.learningRate, stats.gradientNorm, stats.tokensPerSecond,
                      eta / 3600, eta / 60 % 60, eta % 60)
    }
}
