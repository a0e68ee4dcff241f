/// What one measured run of a configuration produced.
public struct MeasuredRun: Sendable, Equatable, Codable {
    /// Tokens per second, in the same sense as `CostEstimate.tokensPerSecond`.
    public var tokensPerSecond: Double
    /// Wall-clock seconds the run took.
    public var seconds: Double

    public init(tokensPerSecond: Double, seconds: Double) {
        self.tokensPerSecond = tokensPerSecond
        self.seconds = seconds
    }
}

/// Runs a configuration for real, for `trident plan --measure`.
///
/// The planner stays pure: the CLI supplies a runner that launches the engine with the
/// given TP/PP/DP on the local machine (once the engine runs TP and PP), and
/// `Plan.compare(with:top:)` puts predictions next to measurements. Tests use an
/// in-memory runner.
public protocol MeasurementRunner {
    /// Runs `configuration` on `workload` for a short while and reports its speed.
    func measure(_ configuration: ParallelConfiguration, workload: Workload) throws -> MeasuredRun
}

/// A prediction beside its measurement.
public struct Comparison: Sendable, Equatable {
    public var configuration: ParallelConfiguration
    public var predictedTokensPerSecond: Double
    public var measured: MeasuredRun

    /// `measured / predicted - 1` (0.1 = measured is 10% faster than predicted).
    public var relativeError: Double { measured.tokensPerSecond / predictedTokensPerSecond - 1 }
}

extension Plan {
    /// Measures the `top` best fitting configurations with `runner`, in ranking order.
    public func compare(with runner: some MeasurementRunner, top: Int) throws -> [Comparison] {
        try evaluations.filter(\.fits).prefix(top).map { e in
            Comparison(configuration: e.configuration, predictedTokensPerSecond: e.cost.tokensPerSecond,
                       measured: try runner.measure(e.configuration, workload: workload))
        }
    }
}
