import TridentCollectives
import TridentModel

/// Runs forward steps of a (possibly distributed) model on behalf of the driver.
///
/// Only the driver (world rank 0) calls a runner; in a distributed run the runner forwards
/// each step to the other ranks (see `StepCommand`, `WorkerLoop`).
public protocol ModelRunner: AnyObject {
    var configuration: ModelConfiguration { get }
    /// Positions each sequence slot can hold.
    var capacity: Int { get }
    /// Number of sequences that can be in flight at once (over all data-parallel replicas).
    var slotCount: Int { get }
    /// Pipeline stages a micro-batch passes through (1 without pipeline parallelism). With
    /// more than one, a step should carry several micro-batches so that the stages overlap.
    var pipelineStages: Int { get }

    /// Runs one step and waits for its logits (`submit` then `collect`): every chunk's tokens
    /// at positions `start ..< start + tokens.count` of its sequence `slot`. Chunks of different
    /// slots may be processed concurrently (by different pipeline stages or replicas); those of
    /// one slot run in the given order, which must be position order. The chunks are fused into
    /// `min(chunks, pipelineStages)` micro-batches so that a pipeline overlaps them.
    /// - Returns: per chunk, in order, its logits: `[]` for `.none`, `[vocabulary]` for
    ///   `.last`, `[tokens, vocabulary]` for `.all`.
    func forward(_ chunks: [SequenceChunk]) throws -> [[Float]]

    /// Starts a step without waiting for its logits; `collect` returns them. Up to
    /// `maxInFlight` steps may be outstanding, so that while the last stage finishes one step
    /// the first stage already runs the next (a step must not depend on an outstanding one:
    /// use disjoint slots, e.g. the `overlapGroups`).
    /// - Parameter microBatches: pipeline micro-batches to fuse the chunks into (default
    ///   `min(chunks, pipelineStages)`).
    func submit(_ chunks: [SequenceChunk], microBatches: Int?) throws

    /// The logits of the oldest outstanding step (as `forward` returns them).
    func collect() throws -> [[Float]]

    /// Steps that may be outstanding at once: the pipeline depth when the backend can overlap
    /// them safely, else 1.
    var maxInFlight: Int { get }

    /// `maxInFlight` disjoint groups of slots, each spread over every replica: a generator that
    /// keeps one step per group outstanding keeps every stage of every replica busy.
    var overlapGroups: [[Int]] { get }

    /// Whether a chunk in slot `slot` may copy its prefix from slot `source`
    /// (`SequenceChunk.prefixSource`): both live in the same KV caches (the same replica).
    func canCopyPrefix(from source: Int, to slot: Int) -> Bool

    /// Per-rank memory and time statistics, rank order (collects them from every rank).
    func rankStatistics() throws -> [RankStatistics]

    /// Zeroes every rank's timings and starts a new measurement window.
    func resetStatistics() throws

    /// Stops the workers (if any). Every later call fails.
    func shutdown() throws
}

extension ModelRunner {
    /// Runners that do not say otherwise copy no prefixes between slots.
    public func canCopyPrefix(from source: Int, to slot: Int) -> Bool { false }

    public func forward(_ chunks: [SequenceChunk]) throws -> [[Float]] {
        try submit(chunks, microBatches: nil)
        return try collect()
    }

    /// Runs `tokens` at positions `start ..< start + tokens.count` of sequence `slot`.
    /// - Returns: logits as requested: `[vocabulary]` for `.last`, `[tokens, vocabulary]` for `.all`.
    public func forward(tokens: [Int32], slot: Int, start: Int, logits: LogitsRequest) throws -> [Float] {
        try forward([SequenceChunk(slot: slot, start: start, tokens: tokens, logits: logits)])[0]
    }
}

/// What one rank reports about itself for `--json` output and benchmarks.
public struct RankStatistics: Sendable, Codable, Equatable {
    public var rank: Int
    /// Coordinates on the grid.
    public var tensor: Int
    public var pipeline: Int
    public var data: Int
    public var peakRSSBytes: Int
    /// Time spent computing inside the stage's forward passes.
    public var computeSeconds: Double
    /// Time spent in tensor-parallel collectives inside the stage's forward passes.
    public var communicationSeconds: Double
    /// Length of the measurement window (since loading or the last `resetStatistics`).
    public var windowSeconds: Double
    /// `(compute + communication) / window`: the rest of the window the rank waited for
    /// activations, for the driver or for its next command (the pipeline bubble, sampling).
    public var busyFraction: Double

    enum CodingKeys: String, CodingKey {
        case rank, tensor = "tp", pipeline = "pp", data = "dp"
        case peakRSSBytes = "peak_rss_bytes"
        case computeSeconds = "compute_seconds"
        case communicationSeconds = "communication_seconds"
        case windowSeconds = "window_seconds"
        case busyFraction = "busy_fraction"
    }

    public init(rank: Int, coordinates: ParallelCoordinates, peakRSSBytes: Int, computeSeconds: Double,
                communicationSeconds: Double, windowSeconds: Double) {
        self.rank = rank
        self.tensor = coordinates.tensor
        self.pipeline = coordinates.pipeline
        self.data = coordinates.data
        self.peakRSSBytes = peakRSSBytes
        self.computeSeconds = computeSeconds
        self.communicationSeconds = communicationSeconds
        self.windowSeconds = windowSeconds
        self.busyFraction = windowSeconds > 0 ? min(1, (computeSeconds + communicationSeconds) / windowSeconds) : 0
    }
}
