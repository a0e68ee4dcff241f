import Foundation
import TridentCollectives
import TridentKernels
@testable import TridentTraining

/// The tiny f32 Llama fixture (4 query heads, 2 KV heads: TP 3 splits them unevenly).
let checkpointModelPath = TrainingFixtures.path("Tests/Fixtures/tiny-llama-f32.gguf")

/// A seeded token stream below the fixture's vocabulary of 256.
func llamaTokens(_ count: Int, seed: UInt64 = 17) -> [Int32] {
    var generator = ToyGenerator(state: seed)
    return (0 ..< count).map { _ in Int32.random(in: 0 ..< 256, using: &generator) }
}

/// The settings of the checkpoint tests: sequences of 16, `accumulate` x `microBatch` per replica.
func llamaConfiguration(microBatch: Int = 1, accumulate: Int, steps: Int) throws -> TrainingConfiguration {
    TrainingConfiguration(sequenceLength: 16, microBatch: microBatch, accumulation: accumulate,
                          schedule: try LearningRateSchedule(kind: .cosine, learningRate: 3e-3, minLearningRate: 3e-4,
                                                             warmupSteps: 1, totalSteps: steps),
                          optimizer: AdamWConfiguration(weightDecay: 0.1), clipNorm: 1, seed: 3, shuffle: true)
}

/// A run of the tiny Llama on a `tp x dp` grid of threads: world rank 0's step statistics and
/// the full weights at the end.
/// - Parameters:
///   - prepare: sees each rank's session before its first step (to resume it).
///   - afterStep: sees each rank's session after each step (to save it).
func runLlama(tp: Int = 1, dp: Int = 1, _ configuration: TrainingConfiguration, tokens: [Int32], until steps: Int,
              prepare: @escaping @Sendable (TrainingSession) throws -> Void = { _ in },
              afterStep: @escaping @Sendable (TrainingSession, StepStatistics) throws -> Void = { _, _ in }) throws -> ToyRun {
    let layout = try ParallelLayout(tensor: tp, pipeline: 1, data: dp)
    let runs = try LocalCommunicator.run(size: layout.worldSize) { world -> ToyRun? in
        let groups = try ProcessGroups.make(world: world, layout: layout)
        let pool = ThreadPool(threadCount: 1)
        let model = try LlamaTrainingModel(ggufPath: checkpointModelPath, group: groups.tensor, pool: pool)
        let session = try TrainingSession(model: model, groups: groups, configuration: configuration, tokens: tokens, pool: pool)
        try prepare(session)
        var stats: [StepStatistics] = []
        while session.completedSteps < steps {
            let step = try session.step()
            stats.append(step)
            try afterStep(session, step)
        }
        guard groups.coordinates.data == 0 else { return nil }
        let weights = try ParameterGathering.byName(model.parameters).map { try ParameterGathering.gather($0, tensorGroup: groups.tensor) }
        return world.rank == 0 ? ToyRun(steps: stats, weights: weights.map { $0! }) : nil
    }
    return runs[0]!
}

/// A fresh temporary directory, removed after `body`.
func withCheckpointDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("trident-ckpt-\(UInt32.random(in: 0 ... .max))").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// Lines logged by ranks, collected across threads.
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func add(_ line: String) { lock.withLock { stored.append(line) } }
    var lines: [String] { lock.withLock { stored } }
}

/// Saves a run's checkpoints under `root` every `every` steps (a writer per rank).
func saving(to root: String, every: Int, tokens: [Int32], asynchronous: Bool = false)
    -> @Sendable (TrainingSession, StepStatistics) throws -> Void {
    let writers = WriterTable()
    return { session, stats in
        guard stats.step % every == 0 else { return }
        let writer = writers.writer(rank: session.groups.world.rank) { ShardedCheckpointWriter(root: root, tokens: tokens) }
        try writer.save(session, metrics: stats, asynchronous: asynchronous)
        if asynchronous { try writer.finish() }
    }
}

/// One checkpoint writer per world rank, made on first use.
final class WriterTable: @unchecked Sendable {
    private let lock = NSLock()
    private var writers: [Int: ShardedCheckpointWriter] = [:]
    func writer(rank: Int, make: () -> ShardedCheckpointWriter) -> ShardedCheckpointWriter {
        lock.withLock {
            if let known = writers[rank] { return known }
            let made = make()
            writers[rank] = made
            return made
        }
    }
}
