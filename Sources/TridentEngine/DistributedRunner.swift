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
    public var slotCount: Int { runtime.stage.cache.slotCount }

    public func forward(tokens: [Int32], slot: Int, start: Int, logits: LogitsRequest) throws -> [Float] {
        precondition(!stopped, "runner was shut down")
        try runtime.stage.cache.checkRoom(slot: slot, start: start, count: tokens.count)
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= configuration.vocabularySize }) {
            throw StepCommandError.malformed("token id \(bad) outside vocabulary of \(configuration.vocabularySize)")
        }
        let command = StepCommand(opcode: .forward, slot: slot, start: start, tokens: tokens, logits: logits)
        try command.broadcast(over: runtime.world)
        return try runtime.execute(command)
    }

    public func rankStatistics() throws -> [RankStatistics] {
        try StepCommand(opcode: .statistics).broadcast(over: runtime.world)
        return try runtime.gatherStatistics()
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
    public static func run(_ runtime: RankRuntime) throws {
        while true {
            let command = try StepCommand.receive(over: runtime.world,
                                                  vocabularySize: runtime.configuration.vocabularySize)
            switch command.opcode {
            case .forward: _ = try runtime.execute(command)
            case .statistics: _ = try runtime.gatherStatistics()
            case .shutdown: return
            }
        }
    }
}
