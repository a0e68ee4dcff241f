import TridentCollectives

extension RankRuntime {
    /// Loads this rank's shard (as `load`), then every rank reports whether its load succeeded
    /// (one int32 max all-reduce over `world`), so a rank that failed to load never leaves the
    /// others waiting for a step that will not come. Every rank of `world` must call this.
    /// - Throws: this rank's own error, or `RankLoadFailure` naming the first rank that failed.
    public static func loadOnEveryRank(path: String, world: any Communicator, threads: Int,
                                       capacity: Int, slots: Int = 1) throws -> RankRuntime {
        let loaded = Result {
            try load(path: path, world: world, threads: threads, capacity: capacity, slots: slots)
        }
        guard world.size > 1 else { return try loaded.get() }
        // Encoded as size - rank so that max picks the lowest failing rank; 0 means all loaded.
        var firstFailure: [Int32] = [0]
        if case .failure = loaded { firstFailure[0] = Int32(world.size - world.rank) }
        try firstFailure.withUnsafeMutableBytes { try world.allReduce($0, type: .int32, op: .max) }
        if case .failure(let error) = loaded { throw error }
        if firstFailure[0] > 0 { throw RankLoadFailure(rank: world.size - Int(firstFailure[0])) }
        return try loaded.get()
    }
}

/// Another rank of the world failed to load the model (that rank reports its own error).
public struct RankLoadFailure: Error, CustomStringConvertible, Equatable {
    public let rank: Int
    public var description: String { "rank \(rank) failed to load the model (see its error)" }
}

extension DistributedRunner {
    /// World rank 0: runs `body` with a runner over `runtime`, then shuts the workers down,
    /// also when `body` throws.
    public static func drive<T>(_ runtime: RankRuntime, _ body: (DistributedRunner) throws -> T) throws -> T {
        let runner = DistributedRunner(runtime: runtime)
        do {
            let result = try body(runner)
            try runner.shutdown()
            return result
        } catch {
            try? runner.shutdown()
            throw error
        }
    }
}
