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
