import Logging
import TridentCollectives
import TridentModel

/// The driver's `ModelRunner`: broadcasts each step to every rank, then runs its own part.
/// With a world of one rank this is plain single-process inference (no communication).
public final class DistributedRunner: ModelRunner {
    public let runtime: RankRuntime
    private var stopped = false
    private let logger: Logger
    /// Forward steps submitted so far.
    public private(set) var steps = 0

    public init(runtime: RankRuntime) {
        precondition(runtime.world.rank == 0, "only world rank 0 drives the model")
        self.runtime = runtime
        self.logger = runtime.logger
    }

    public var configuration: ModelConfiguration { runtime.configuration }
    public var capacity: Int { runtime.stage.cache.capacity }
    public var slotCount: Int { runtime.placement.slotCount }
    public var pipelineStages: Int { runtime.placement.layout.pipeline }
    public var placement: ModelPlacement { runtime.placement }

    /// Steps submitted and not yet collected: their chunks and this rank's own logits.
    private var outstanding: [(chunks: [SequenceChunk], local: [[Float]]?)] = []

    /// The pipeline depth when sends cannot deadlock (the last stage sends logits to rank 0
    /// while rank 0 sends the next step's activations to stage 1), else 1 (MPI).
    public var maxInFlight: Int { runtime.world.sendsAreBuffered ? pipelineStages : 1 }

    /// Group `g` holds the global slots whose replica-local slot is `g` modulo `maxInFlight`.
    public var overlapGroups: [[Int]] {
        let groups = maxInFlight
        return (0..<groups).map { g in (0..<slotCount).filter { placement.localSlot($0) % groups == g } }
    }

    /// Slots of one replica share its ranks' KV caches.
    public func canCopyPrefix(from source: Int, to slot: Int) -> Bool {
        source != slot && placement.replica(ofSlot: source) == placement.replica(ofSlot: slot)
    }

    /// Most rows one fused pass should hold: a step with more tokens is split into more
    /// micro-batches (at chunk boundaries), bounding scratch memory and the time a pipeline
    /// stage spends on one micro-batch.
    public static let rowsPerPass = 512

    /// Validates the step (the workers check it again), broadcasts it and runs this rank's part.
    /// The chunks are fused into `microBatches` micro-batches, or more when they would exceed
    /// `rowsPerPass` rows each.
    /// - Throws: `KVCacheError` for a slot or positions outside the cache, `StepCommandError`
    ///   for a token outside the vocabulary or a step over the size limits, before any rank is
    ///   told about the step.
    public func submit(_ chunks: [SequenceChunk], microBatches: Int? = nil) throws {
        precondition(!stopped, "runner was shut down")
        precondition(!chunks.isEmpty, "a step needs at least one chunk")
        precondition(outstanding.count < maxInFlight, "\(outstanding.count) steps outstanding already")
        try StepCommand.checkSize(chunks)
        let vocabulary = configuration.vocabularySize
        for chunk in chunks {
            guard chunk.slot < slotCount else { throw KVCacheError.noSuchSlot(slot: chunk.slot, slotCount: slotCount) }
            if let source = chunk.prefixSource, !(source < slotCount && chunk.start > 0 && canCopyPrefix(from: source, to: chunk.slot)) {
                throw StepCommandError.malformed("slot \(chunk.slot) cannot copy positions 0..<\(chunk.start) from slot \(source)")
            }
            guard chunk.start + chunk.tokens.count <= capacity else {
                throw KVCacheError.full(slot: chunk.slot, needed: chunk.start + chunk.tokens.count, capacity: capacity)
            }
            if let bad = chunk.tokens.first(where: { $0 < 0 || Int($0) >= vocabulary }) {
                throw StepCommandError.malformed("token id \(bad) outside vocabulary of \(vocabulary)")
            }
        }
        let rows = chunks.reduce(0) { $0 + $1.tokens.count }
        let bySize = (rows + Self.rowsPerPass - 1) / Self.rowsPerPass
        let groups = min(max(1, microBatches ?? pipelineStages, bySize), chunks.count)
        let command = StepCommand(opcode: .forward, chunks: chunks, microBatches: groups)
        steps += 1
        logger.trace("step", metadata: ["step": "\(steps)", "chunks": "\(chunks.count)", "rows": "\(rows)",
                                        "micro_batches": "\(groups)"])
        try command.broadcast(over: runtime.world)
        outstanding.append((chunks, try runtime.run(command)))
    }

    public func collect() throws -> [[Float]] {
        precondition(!outstanding.isEmpty, "no step outstanding")
        let step = outstanding.removeFirst()
        return try runtime.collectLogits(step.chunks, local: step.local)
    }

    public func rankStatistics() throws -> [RankStatistics] {
        precondition(outstanding.isEmpty, "collect every step before other commands")
        try StepCommand(opcode: .statistics).broadcast(over: runtime.world)
        return try runtime.gatherStatistics()
    }

    public func resetStatistics() throws {
        precondition(!stopped && outstanding.isEmpty, "collect every step before other commands")
        try StepCommand(opcode: .resetStatistics).broadcast(over: runtime.world)
        runtime.resetStatistics()
    }

    public func shutdown() throws {
        guard !stopped else { return }
        stopped = true
        logger.info("driver shutting down the workers", metadata: ["steps": "\(steps)"])
        try StepCommand(opcode: .shutdown).broadcast(over: runtime.world)
    }
}

/// A non-driver rank's main loop: executes the driver's commands until `.shutdown`.
public enum WorkerLoop {
    /// Every rank other than world rank 0 calls this after loading; it returns when the
    /// driver shuts down and throws if the driver or a peer fails.
    /// - Parameter forwardStepLimit: return after this many forward steps (test hooks that
    ///   simulate a rank dying mid-run).
    /// - Returns: true when the driver shut the run down, false when the limit was reached.
    @discardableResult
    public static func run(_ runtime: RankRuntime, forwardStepLimit: Int = .max) throws -> Bool {
        var forwardSteps = 0
        let logger = runtime.logger
        logger.debug("worker serving the driver's steps")
        while forwardSteps < forwardStepLimit {
            let command = try StepCommand.receive(over: runtime.world, slotCount: runtime.placement.slotCount,
                                                  capacity: runtime.stage.cache.capacity,
                                                  vocabularySize: runtime.configuration.vocabularySize)
            switch command.opcode {
            case .forward:
                _ = try runtime.run(command)
                forwardSteps += 1
            case .statistics: _ = try runtime.gatherStatistics()
            case .resetStatistics: runtime.resetStatistics()
            case .shutdown:
                logger.debug("worker shut down by the driver", metadata: ["steps": "\(forwardSteps)"])
                return true
            }
        }
        return false
    }
}
