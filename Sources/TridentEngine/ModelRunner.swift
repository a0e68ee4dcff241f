import TridentModel

/// Runs forward steps of a (possibly distributed) model on behalf of the driver.
///
/// Only the driver (world rank 0) calls a runner; in a distributed run the runner forwards
/// each step to the other ranks (see `StepCommand`, `WorkerLoop`).
public protocol ModelRunner: AnyObject {
    var configuration: ModelConfiguration { get }
    /// Positions each sequence slot can hold.
    var capacity: Int { get }
    /// Number of sequences that can be in flight at once.
    var slotCount: Int { get }

    /// Runs `tokens` at positions `start ..< start + tokens.count` of sequence `slot`.
    /// - Returns: logits as requested: `[vocabulary]` for `.last`, `[tokens, vocabulary]` for `.all`.
    func forward(tokens: [Int32], slot: Int, start: Int, logits: LogitsRequest) throws -> [Float]

    /// Per-rank memory and time statistics, rank order (collects them from every rank).
    func rankStatistics() throws -> [RankStatistics]

    /// Stops the workers (if any). Every later call fails.
    func shutdown() throws
}

/// What one rank reports about itself for `--json` output and benchmarks.
public struct RankStatistics: Sendable, Codable, Equatable {
    public var rank: Int
    public var peakRSSBytes: Int
    public var computeSeconds: Double
    public var communicationSeconds: Double

    enum CodingKeys: String, CodingKey {
        case rank
        case peakRSSBytes = "peak_rss_bytes"
        case computeSeconds = "compute_seconds"
        case communicationSeconds = "communication_seconds"
    }

    public init(rank: Int, peakRSSBytes: Int, computeSeconds: Double, communicationSeconds: Double) {
        self.rank = rank
        self.peakRSSBytes = peakRSSBytes
        self.computeSeconds = computeSeconds
        self.communicationSeconds = communicationSeconds
    }
}
