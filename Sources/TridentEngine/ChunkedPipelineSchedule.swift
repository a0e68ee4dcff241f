/// One step of a rank's program in a pipeline schedule whose ranks may hold several model
/// chunks (Megatron's interleaved 1F1B): chunk `c` of rank `r` of `P` is virtual stage
/// `c * P + r`; activations go from virtual stage `k` to `k + 1` (rank `r + 1`, or rank 0's
/// next chunk after the last rank), gradients back. With one chunk per rank the virtual
/// stage is the rank and this is a `PipelineAction`.
public struct ChunkedAction: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case receiveActivations, forward, sendActivations, receiveGradients, backward, sendGradients
    }
    public var kind: Kind
    /// The chunk (0 ..< V) on this rank.
    public var chunk: Int
    public var microBatch: Int
    /// The peer rank of a send or receive (unused for compute).
    public var peer: Int

    public init(_ kind: Kind, chunk: Int, microBatch: Int, peer: Int = -1) {
        self.kind = kind
        self.chunk = chunk
        self.microBatch = microBatch
        self.peer = peer
    }

    /// The same action of a one-chunk schedule.
    public init(_ action: PipelineAction) {
        switch action {
        case let .receiveActivations(m, from): self.init(.receiveActivations, chunk: 0, microBatch: m, peer: from)
        case let .forward(m): self.init(.forward, chunk: 0, microBatch: m)
        case let .sendActivations(m, to): self.init(.sendActivations, chunk: 0, microBatch: m, peer: to)
        case let .receiveGradients(m, from): self.init(.receiveGradients, chunk: 0, microBatch: m, peer: from)
        case let .backward(m): self.init(.backward, chunk: 0, microBatch: m)
        case let .sendGradients(m, to): self.init(.sendGradients, chunk: 0, microBatch: m, peer: to)
        }
    }

    /// Whether the action moves or computes gradients.
    public var isGradient: Bool { kind == .receiveGradients || kind == .backward || kind == .sendGradients }

    /// `R1.0<0` (chunk 1, micro-batch 0, from rank 0), `F1.0`, `s0.2>1`, ...
    public var description: String { description(chunks: 2) }

    /// The short form; with one chunk per rank the `PipelineAction` form without the chunk (`R0<0`).
    public func description(chunks: Int) -> String {
        let c = chunks == 1 ? "\(microBatch)" : "\(chunk).\(microBatch)"
        switch kind {
        case .receiveActivations: return "R\(c)<\(peer)"
        case .forward: return "F\(c)"
        case .sendActivations: return "S\(c)>\(peer)"
        case .receiveGradients: return "r\(c)<\(peer)"
        case .backward: return "B\(c)"
        case .sendGradients: return "s\(c)>\(peer)"
        }
    }
}

/// A pipeline schedule as data over `ranks` ranks of `chunks` model chunks each: `actions[r]`
/// is rank r's program. `PipelineScheduleValidator` checks and simulates it; a
/// `PipelineSchedule` is the one-chunk case (`init(_:)`).
public struct ChunkedPipelineSchedule: Sendable, Equatable {
    public var ranks: Int
    /// Model chunks per rank (V); virtual stage `c * ranks + r` is chunk `c` of rank `r`.
    public var chunks: Int
    public var microBatches: Int
    public var actions: [[ChunkedAction]]

    public init(ranks: Int, chunks: Int, microBatches: Int, actions: [[ChunkedAction]]) {
        precondition(ranks >= 1 && chunks >= 1 && microBatches >= 0, "a schedule needs a rank and a chunk")
        precondition(actions.count == ranks, "\(actions.count) action lists for \(ranks) ranks")
        self.ranks = ranks
        self.chunks = chunks
        self.microBatches = microBatches
        self.actions = actions
    }

    /// The one-chunk schedule of `schedule` (stage s = rank s, the same actions in the same order).
    public init(_ schedule: PipelineSchedule) {
        self.init(ranks: schedule.stages, chunks: 1, microBatches: schedule.microBatches,
                  actions: schedule.actions.map { $0.map(ChunkedAction.init) })
    }

    /// Whether any rank runs a backward pass.
    public var includesBackward: Bool { actions.contains { $0.contains { $0.kind == .backward } } }

    /// The virtual stage of chunk `chunk` on rank `rank`.
    public func virtualStage(rank: Int, chunk: Int) -> Int { chunk * ranks + rank }

    /// The last virtual stage, `ranks * chunks - 1`.
    public var lastVirtualStage: Int { ranks * chunks - 1 }

    /// The rank holding virtual stage `k`.
    public func rank(ofVirtualStage k: Int) -> Int { k % ranks }
}
