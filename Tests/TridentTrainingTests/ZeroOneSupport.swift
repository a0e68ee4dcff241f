import Foundation
import TridentCollectives
import TridentFormats
import TridentKernels
import TridentModel
import TridentTestSupport
@testable import TridentTraining

/// The transport a multi-rank test runs over.
enum TestBackend: String, Sendable, CaseIterable {
    /// `LocalCommunicator`: one thread per rank.
    case threads
    /// `TCPCommunicator` over loopback, one thread per rank, each its own "host" (no shared memory).
    case tcp
}

/// Runs `body` on every rank of a world of `size` over `backend`; the ranks' results in rank order.
func onWorld<T: Sendable>(_ size: Int, _ backend: TestBackend,
                          _ body: @escaping @Sendable (any Communicator) throws -> T) throws -> [T] {
    switch backend {
    case .threads: return try LocalCommunicator.run(size: size) { try body($0) }
    // Each rank its own "host": no shared memory.
    case .tcp: return try withTCPWorld(size, secret: "zero-one-test", sharedMemory: false) { try body($0) }
    }
}

/// One layout's run: world rank 0's statistics, every (stage, data replica)'s full tensors by
/// name (gathered over its tensor group), and each world rank's AdamW moment bytes.
struct ZeroRun: Sendable {
    var steps: [StepStatistics]
    /// `[stage][replica]`: tensors by name.
    var weights: [[[String: [Float]]]]
    var stateBytes: [Int]
    /// Whether world rank 0's session sharded its optimizer state.
    var sharded: Bool
}

/// Which model a `runZero` rank trains.
enum ZeroModel: Sendable {
    /// A small random-initialised Llama of this configuration (seed 3), any TP/PP.
    case random(ModelConfiguration)
    /// The tiny f32 GGUF fixture (no pipeline stages).
    case fixture
}

/// Runs `configuration` until `steps` on a `tp x pp x dp` grid over `backend`, with `zero`.
/// - Parameters:
///   - prepare: sees each rank's session before its first step (to resume it).
///   - afterStep: sees each rank's session after each step (to save it).
func runZero(_ model: ZeroModel, tp: Int = 1, pp: Int = 1, dp: Int, zero: ZeroStage, backend: TestBackend = .threads,
             _ configuration: TrainingConfiguration, tokens: [Int32], until steps: Int? = nil,
             prepare: @escaping @Sendable (TrainingSession) throws -> Void = { _ in },
             afterStep: @escaping @Sendable (TrainingSession, StepStatistics) throws -> Void = { _, _ in }) throws -> ZeroRun {
    let layout = try ParallelLayout(tensor: tp, pipeline: pp, data: dp)
    let last = steps ?? configuration.steps
    struct Part: Sendable { var steps: [StepStatistics]; var stage: Int; var replica: Int; var weights: [String: [Float]]?; var bytes: Int; var sharded: Bool }
    let parts = try onWorld(layout.worldSize, backend) { world -> Part in
        let groups = try ProcessGroups.make(world: world, layout: layout)
        let pool = ThreadPool(threadCount: 1)
        let trained: LlamaTrainingModel
        switch model {
        case .random(let c):
            let partition = try StagePartition.balanced(configuration: c, stages: pp)
            trained = try LlamaTrainingModel(configuration: c, source: .random(seed: 3), group: groups.tensor, pool: pool,
                                             stage: pp > 1 ? TrainingStage.stage(groups.coordinates.pipeline, of: partition.ranges) : nil)
        case .fixture:
            trained = try LlamaTrainingModel(ggufPath: checkpointModelPath, group: groups.tensor, pool: pool)
        }
        let session = try TrainingSession(model: trained, groups: groups, configuration: configuration, tokens: tokens,
                                          pool: pool, zero: zero)
        try prepare(session)
        var stats: [StepStatistics] = []
        while session.completedSteps < last {
            let step = try session.step()
            stats.append(step)
            try afterStep(session, step)
        }
        var gathered: [String: [Float]] = [:]
        for views in ParameterGathering.byName(trained.parameters) {
            if let values = try ParameterGathering.gather(views, tensorGroup: groups.tensor) { gathered[views[0].name] = values }
        }
        return Part(steps: stats, stage: groups.coordinates.pipeline, replica: groups.coordinates.data,
                    weights: groups.coordinates.tensor == 0 ? gathered : nil, bytes: session.optimizer.stateBytes,
                    sharded: session.shardsOptimizerState)
    }
    var weights = [[[String: [Float]]]](repeating: [[String: [Float]]](repeating: [:], count: dp), count: pp)
    for part in parts { if let w = part.weights { weights[part.stage][part.replica] = w } }
    return ZeroRun(steps: parts[0].steps, weights: weights, stateBytes: parts.map(\.bytes), sharded: parts[0].sharded)
}
