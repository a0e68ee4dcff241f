/// Time one pipeline stage spends on one micro-batch.
public struct StageTime: Sendable, Equatable {
    /// Roofline time of the stage's arithmetic and memory traffic, seconds.
    public var compute: Double
    /// Communication on the critical path (TP collectives, the send to the next stage), seconds.
    public var communication: Double
    public var total: Double { compute + communication }
}

/// Timing of `microBatches` micro-batches flowing through stages of given times.
public struct PipelineTiming: Sendable, Equatable {
    public let stages: [StageTime]
    public let microBatches: Int

    public init(stages: [StageTime], microBatches: Int) {
        precondition(!stages.isEmpty && microBatches >= 1, "need a stage and a micro-batch")
        self.stages = stages
        self.microBatches = microBatches
    }

    /// The stage that sets the pace.
    public var slowest: StageTime { stages.max { $0.total < $1.total }! }

    /// Time until the last micro-batch leaves the last stage when the pipeline starts
    /// empty and is flushed (prefill, a training step): `sum(t_s) + (M-1) max(t_s)`,
    /// i.e. `(M + P - 1) t` for equal stages, bubble share `(P-1)/(M+P-1)`.
    public var flushedTime: Double {
        stages.reduce(0) { $0 + $1.total } + Double(microBatches - 1) * slowest.total
    }

    /// Time per round in steady state when each micro-batch re-enters as soon as it leaves
    /// (decoding): `max(M max(t_s), sum(t_s))`; idle when `M < P`.
    public var steadyRoundTime: Double {
        max(Double(microBatches) * slowest.total, stages.reduce(0) { $0 + $1.total })
    }

    /// Time the slowest stage is busy per flush or round.
    public var busyTime: Double { Double(microBatches) * slowest.total }
    /// Communication time of the slowest stage per flush or round.
    public var communicationTime: Double { Double(microBatches) * slowest.communication }
}
