import TridentCollectives
import TridentModel

/// The driver's `ModelRunner`: broadcasts each step to every rank, then runs its own part.
/// With a world of one rank this is plain single-process inference (no communication).
public final class DistributedRunner: ModelRunner {
    public let runtime: RankRuntime
    private var stopped = false

    public init(runtime: RankRuntime) {
        precondition(runtime.world.rank == 0, "only world rank 0 drives the model")
        self.runtime = runtime
    }

    public var configuration: ModelConfiguration { runtime.configuration }
    public var capacity: Int { runtime.stage.cache.capacity }
    public var slotCount: Int { runtime.placement.slotCount }
    public var pipelineStages: Int { runtime.placement.layout.pipeline }
    public var placement: ModelPlacement { runtime.placement }

    /// Validates the step (the workers check it again), broadcasts it and runs this rank's part.
    /// - Throws: `KVCacheError` for a slot or positions outside the cache, `StepCommandError`
    ///   for a token outside the vocabulary, before any rank is told about the step.
    public func forward(_ microBatches: [SequenceChunk]) throws -> [[Float]] {
        precondition(!stopped, "runner was shut down")
        guard !microBatches.isEmpty else { return [] }
        let vocabulary = configuration.vocabularySize
        for mb in microBatches {
            guard mb.slot < slotCount else { throw KVCacheError.noSuchSlot(slot: mb.slot, slotCount: slotCount) }
            guard mb.start + mb.tokens.count <= capacity else {
                throw KVCacheError.full(slot: mb.slot, needed: mb.start + mb.tokens.count, capacity: capacity)
            }
            if let bad = mb.tokens.first(where: { $0 < 0 || Int($0) >= vocabulary }) {
                throw StepCommandError.malformed("token id \(bad) outside vocabulary of \(vocabulary)")
            }
        }
        let command = StepCommand(opcode: .forward, microBatches: microBatches)
        try command.broadcast(over: runtime.world)
        return try runtime.execute(command)
    }

    public func rankStatistics() throws -> [RankStatistics] {
        try StepCommand(opcode: .statistics).broadcast(over: runtime.world)
        return try runtime.gatherStatistics()
    }

    public func resetStatistics() throws {
        try StepCommand(opcode: .resetStatistics).broadcast(over: runtime.world)
        runtime.resetStatistics()
    }

    public func shutdown() throws {
        guard !stopped else { return }
        stopped = true
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
        while forwardSteps < forwardStepLimit {
            let command = try StepCommand.receive(over: runtime.world, slotCount: runtime.placement.slotCount,
                                                  capacity: runtime.stage.cache.capacity,
                                                  vocabularySize: runtime.configuration.vocabularySize)
            switch command.opcode {
            case .forward:
                _ = try runtime.execute(command)
                forwardSteps += 1
            case .statistics: _ = try runtime.gatherStatistics()
            case .resetStatistics: runtime.resetStatistics()
            case .shutdown: return true
            }
        }
        return false
    }
}
