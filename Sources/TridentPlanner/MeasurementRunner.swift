/// What one measured run of a configuration produced.
public struct MeasuredRun: Sendable, Equatable, Codable {
    /// Tokens per second, in the same sense as `CostEstimate.tokensPerSecond` (generated
    /// tokens over whole requests, prefill included).
    public var tokensPerSecond: Double
    /// Wall-clock seconds the measured request took (prefill and decode).
    public var seconds: Double
    /// Generated tokens per second in steady decoding, when the run reports it.
    public var decodeTokensPerSecond: Double?
    /// Prompt tokens per second during prefill, when the run reports it.
    public var prefillTokensPerSecond: Double?
    /// Peak resident memory of the heaviest rank (process RSS: includes the runtime and
    /// mapped model pages), bytes.
    public var peakMemoryBytes: Double?
    /// Largest share of a rank's time spent inside collectives (waiting for peers included).
    public var communicationShare: Double?

    public init(tokensPerSecond: Double, seconds: Double, decodeTokensPerSecond: Double? = nil,
                prefillTokensPerSecond: Double? = nil, peakMemoryBytes: Double? = nil,
                communicationShare: Double? = nil) {
        self.tokensPerSecond = tokensPerSecond
        self.seconds = seconds
        self.decodeTokensPerSecond = decodeTokensPerSecond
        self.prefillTokensPerSecond = prefillTokensPerSecond
        self.peakMemoryBytes = peakMemoryBytes
        self.communicationShare = communicationShare
    }

    enum CodingKeys: String, CodingKey {
        case seconds
        case tokensPerSecond = "tokens_per_second"
        case decodeTokensPerSecond = "decode_tokens_per_second"
        case prefillTokensPerSecond = "prefill_tokens_per_second"
        case peakMemoryBytes = "peak_memory_bytes"
        case communicationShare = "communication_share"
    }
}

/// Runs a configuration for real, for `trident plan --measure`.
///
/// The planner stays pure: the CLI supplies a runner that launches the engine with the
/// given TP/PP/DP on the local machine, and `Plan.compare(with:top:)` puts predictions next
/// to measurements. Tests use an in-memory runner.
public protocol MeasurementRunner {
    /// Why `configuration` cannot be run here (e.g. "needs 8 cores, this machine has 2"), or nil when it can.
    func unmeasurableReason(for configuration: ParallelConfiguration) -> String?
    /// Runs `configuration` on `workload` for a short while and reports its speed.
    func measure(_ configuration: ParallelConfiguration, workload: Workload) throws -> MeasuredRun
}

extension MeasurementRunner {
    /// Every configuration is measurable unless a runner says otherwise.
    public func unmeasurableReason(for configuration: ParallelConfiguration) -> String? { nil }
}

extension Plan {
    /// The `top` best fitting configurations in ranking order, each measured with `runner`
    /// or, when the runner cannot run it, listed with the runner's reason.
    public func compare(with runner: some MeasurementRunner, top: Int) throws -> [Comparison] {
        try evaluations.filter(\.fits).prefix(top).map { e in
            if let reason = runner.unmeasurableReason(for: e.configuration) {
                return Comparison(e, measured: nil, note: reason)
            }
            return Comparison(e, measured: try runner.measure(e.configuration, workload: workload), note: nil)
        }
    }
}
