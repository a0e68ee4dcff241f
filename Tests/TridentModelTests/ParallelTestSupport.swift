import Foundation
import TridentCollectives
import TridentEngine
import TridentModel

/// Loads `path` on a `layout` grid of ranks (threads of this process, local backend, one
/// compute thread each), runs `drive` with world rank 0's runner while the other ranks serve
/// its commands, then shuts the workers down. - Returns: what `drive` returned.
///
/// The ranks agree on whether every load succeeded before any step: a rank whose load throws
/// never reaches a collective, which would leave the others waiting for the operation timeout.
func withParallelRuntime<R: Sendable>(_ path: String, layout: ParallelLayout, pipelineLayers: String? = nil,
                                      slotsPerReplica: Int = 1, capacity: Int = 128,
                                      _ drive: @escaping @Sendable (DistributedRunner) throws -> R) throws -> R {
    let outcomes = try LocalCommunicator.run(size: layout.worldSize) { communicator in
        Result { () -> R? in
            let runtime = try RankRuntime.load(path: path, world: communicator, layout: layout,
                                               pipelineLayers: pipelineLayers, threads: 1, capacity: capacity,
                                               slotsPerReplica: slotsPerReplica)
            guard communicator.rank == 0 else {
                try WorkerLoop.run(runtime)
                return nil
            }
            return try DistributedRunner.drive(runtime, drive)
        }
    }
    // Report a rank's own error rather than another rank's "a peer failed".
    for case .failure(let error) in outcomes where !(error is RankLoadFailure) { throw error }
    return try outcomes[0].get()!
}

/// A `tp x pp x dp` grid with an optional `--pipeline-layers` split, for parameterised tests.
struct GridCase: Sendable, CustomStringConvertible {
    var tensor = 1, pipeline = 1, data = 1
    var pipelineLayers: String?

    var layout: ParallelLayout { try! ParallelLayout(tensor: tensor, pipeline: pipeline, data: data) }
    var description: String {
        "TP\(tensor) x PP\(pipeline) x DP\(data)" + (pipelineLayers.map { " layers \($0)" } ?? "")
    }
}
