import Foundation

/// A measured training run beside the planner's prediction for the same grid and workload
/// (float32, as trident trains: `TrainingMeasurement.workload`) on one host of `tp x pp x dp`
/// devices. Ratios are `measured / predicted`.
public struct TrainingComparison: Sendable, Equatable {
    public var measurement: TrainingMeasurement
    /// The planner's evaluation of the measured grid.
    public var evaluation: Evaluation
    /// The most saved activation bytes the planner expects any (stage, tensor rank) to hold.
    public var predictedPeakActivationBytes: Double

    /// Prices `measurement`'s grid and workload on `cluster`, resized to the run's ranks on one node.
    public init(model: PlannerModel, cluster: Cluster, measurement: TrainingMeasurement) {
        var host = cluster
        host.deviceCount = measurement.configuration.deviceCount
        host.devicesPerNode = host.deviceCount
        self.measurement = measurement
        evaluation = Evaluation(model: model, cluster: host, configuration: measurement.configuration,
                                workload: .training(measurement.workload))
        predictedPeakActivationBytes = MemoryModel.peakTrainingActivations(
            model: model, configuration: measurement.configuration, workload: measurement.workload)
    }

    /// Measured over predicted training tokens/s.
    public var tokensRatio: Double? { Comparison.ratio(measurement.tokensPerSecond, evaluation.cost.tokensPerSecond) }
    /// Measured peak RSS over the predicted memory of the heaviest device.
    public var memoryRatio: Double? { Comparison.ratio(measurement.measuredRun.peakMemoryBytes, evaluation.memory.total) }
    /// Measured over predicted peak saved activations.
    public var activationRatio: Double? { Comparison.ratio(measurement.peakActivationBytes, predictedPeakActivationBytes) }

    /// What the prediction does not model about the run, or nil.
    public var note: String? {
        guard let schedule = measurement.schedule, measurement.pp > 1, schedule != "1f1b" else { return nil }
        return "the planner prices 1F1B; this run used \(schedule)"
    }

    /// One row per run: tokens/s, memory per device and peak saved activations, predicted,
    /// measured and their ratio.
    public static func renderTable(_ comparisons: [TrainingComparison]) -> String {
        var rows = [["config", "seq x mb x acc", "recompute", "zero", "tok/s pred", "measured", "ratio",
                     "memory/device pred", "peak RSS", "ratio", "activations pred", "measured", "ratio", "note"]]
        for c in comparisons {
            let m = c.measurement
            rows.append([Formatting.configuration(m.configuration) + (m.schedule.map { " " + $0 } ?? ""),
                         "\(m.seqLen) x \(m.microBatch) x \(m.accumulate)", m.recompute ? "yes" : "no", "\(m.zero)",
                         Formatting.tokensPerSecond(c.evaluation.cost.tokensPerSecond),
                         Formatting.tokensPerSecond(m.tokensPerSecond), ratio(c.tokensRatio),
                         Formatting.bytes(c.evaluation.memory.total),
                         m.measuredRun.peakMemoryBytes.map(Formatting.bytes) ?? "-", ratio(c.memoryRatio),
                         Formatting.bytes(c.predictedPeakActivationBytes),
                         m.peakActivationBytes.map(Formatting.bytes) ?? "-", ratio(c.activationRatio), c.note ?? ""])
        }
        return Plan.align(rows).joined(separator: "\n")
    }

    private static func ratio(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "-" }
}

/// One comparison as `trident plan --mode training --measure FILE --json` prints it.
public struct TrainingComparisonReport: Sendable, Equatable, Encodable {
    public struct Predicted: Sendable, Equatable, Encodable {
        public var tokensPerSecond: Double
        public var secondsPerStep: Double
        public var memoryPerDeviceBytes: Double
        public var memory: MemoryBreakdown
        public var peakActivationBytes: Double

        enum CodingKeys: String, CodingKey {
            case memory
            case tokensPerSecond = "tokens_per_second"
            case secondsPerStep = "seconds_per_step"
            case memoryPerDeviceBytes = "memory_per_device_bytes"
            case peakActivationBytes = "peak_activation_bytes"
        }
    }

    public struct Measured: Sendable, Equatable, Encodable {
        public var tokensPerSecond: Double
        public var secondsPerStep: Double
        public var peakRSSBytes: Double?
        public var peakActivationBytes: Double?
        public var communicationShare: Double?

        enum CodingKeys: String, CodingKey {
            case tokensPerSecond = "tokens_per_second"
            case secondsPerStep = "seconds_per_step"
            case peakRSSBytes = "peak_rss_bytes"
            case peakActivationBytes = "peak_activation_bytes"
            case communicationShare = "communication_share"
        }
    }

    public var tp, pp, dp, seqLen, microBatch, accumulate, zero: Int
    public var recompute: Bool
    public var schedule: String?
    public var predicted: Predicted
    public var measured: Measured
    public var tokensRatio, memoryRatio, activationRatio: Double?
    public var note: String?

    public init(_ c: TrainingComparison) {
        let m = c.measurement, run = m.measuredRun
        tp = m.tp
        pp = m.pp
        dp = m.dp
        seqLen = m.seqLen
        microBatch = m.microBatch
        accumulate = m.accumulate
        zero = m.zero
        recompute = m.recompute
        schedule = m.schedule
        predicted = Predicted(tokensPerSecond: c.evaluation.cost.tokensPerSecond, secondsPerStep: c.evaluation.cost.seconds,
                              memoryPerDeviceBytes: c.evaluation.memory.total, memory: c.evaluation.memory,
                              peakActivationBytes: c.predictedPeakActivationBytes)
        measured = Measured(tokensPerSecond: m.tokensPerSecond, secondsPerStep: run.seconds, peakRSSBytes: run.peakMemoryBytes,
                            peakActivationBytes: m.peakActivationBytes, communicationShare: run.communicationShare)
        tokensRatio = c.tokensRatio
        memoryRatio = c.memoryRatio
        activationRatio = c.activationRatio
        note = c.note
    }

    enum CodingKeys: String, CodingKey {
        case tp, pp, dp, accumulate, zero, recompute, schedule, predicted, measured, note
        case seqLen = "seq_len"
        case microBatch = "micro_batch"
        case tokensRatio = "tokens_ratio"
        case memoryRatio = "memory_ratio"
        case activationRatio = "activation_ratio"
    }
}
