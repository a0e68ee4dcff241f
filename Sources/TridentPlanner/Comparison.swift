/// A prediction beside its measurement (or the reason there is none).
///
/// Ratios are `measured / predicted`: 1.25 means the real run was 25% faster (or used 25%
/// more memory) than predicted.
public struct Comparison: Sendable, Equatable {
    public var configuration: ParallelConfiguration
    /// The planner's speed estimate for this configuration.
    public var predicted: CostEstimate
    /// The planner's memory for the heaviest device, bytes.
    public var predictedMemoryBytes: Double
    /// The run's results; nil when the configuration was not run.
    public var measured: MeasuredRun?
    /// Why the configuration was not run, e.g. "not measured (1x4x2 needs 8 cores, this machine has 2)".
    public var note: String?

    public init(configuration: ParallelConfiguration, predicted: CostEstimate, predictedMemoryBytes: Double,
                measured: MeasuredRun?, note: String?) {
        precondition(measured != nil || note != nil, "an unmeasured comparison needs a note saying why")
        self.configuration = configuration
        self.predicted = predicted
        self.predictedMemoryBytes = predictedMemoryBytes
        self.measured = measured
        self.note = note
    }

    /// Pairs `evaluation`'s prediction with `measured`.
    public init(_ evaluation: Evaluation, measured: MeasuredRun?, note: String?) {
        self.init(configuration: evaluation.configuration, predicted: evaluation.cost,
                  predictedMemoryBytes: evaluation.memory.total, measured: measured, note: note)
    }

    /// Headline prediction (generated tokens/s over whole requests).
    public var predictedTokensPerSecond: Double { predicted.tokensPerSecond }

    /// `measured / predicted - 1` of the headline tokens/s (0.1 = measured is 10% faster).
    public var relativeError: Double? {
        measured.map { $0.tokensPerSecond / predicted.tokensPerSecond - 1 }
    }

    /// Measured over predicted decode tokens/s.
    public var decodeRatio: Double? {
        Self.ratio(measured?.decodeTokensPerSecond, predicted.decodeTokensPerSecond)
    }

    /// Measured peak memory over predicted memory per device.
    public var memoryRatio: Double? { Self.ratio(measured?.peakMemoryBytes, predictedMemoryBytes) }

    /// Measured over predicted communication share (nil when nothing was predicted).
    public var communicationRatio: Double? {
        Self.ratio(measured?.communicationShare, predicted.communicationShare)
    }

    /// Whether the predicted decode tokens/s is within `tolerance` (0.3 = 30%) of the
    /// measured one: `|predicted / measured - 1| <= tolerance`. Nil when not measured.
    public func decodeWithin(_ tolerance: Double) -> Bool? {
        guard let measuredRate = measured?.decodeTokensPerSecond, measuredRate > 0 else { return nil }
        return abs(predicted.decodeTokensPerSecond / measuredRate - 1) <= tolerance
    }

    static func ratio(_ measured: Double?, _ predicted: Double) -> Double? {
        guard let measured, predicted > 0 else { return nil }
        return measured / predicted
    }
}
