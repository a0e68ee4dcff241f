import Foundation
import TridentCollectives
import TridentEngine
import TridentKernels
import TridentModel
import TridentTraining

/// One rank's part of a training run: its groups (the tensor group timed), its model shard and
/// its session, plus the totals its line in the final report needs.
final class TrainingRank {
    let groups: ProcessGroups
    let session: TrainingSession
    private let timedTensor: TimedCommunicator
    private(set) var totals = RankTotals()

    /// Builds the groups over `world` and this rank's model with `makeModel`, then its session.
    /// Every rank of `world` must call this.
    init(world: any Communicator, layout: ParallelLayout, configuration: TrainingConfiguration, tokens: [Int32],
         threads: Int, makeModel: (ProcessGroups, ThreadPool) throws -> any TrainableModel) throws {
        let plain = try ProcessGroups.make(world: world, layout: layout)
        timedTensor = TimedCommunicator(plain.tensor)
        groups = ProcessGroups(world: plain.world, tensor: timedTensor, pipeline: plain.pipeline, data: plain.data,
                               layout: layout)
        let pool = ThreadPool(threadCount: threads)
        let model = try makeModel(groups, pool)
        session = try TrainingSession(model: model, groups: groups, configuration: configuration, tokens: tokens, pool: pool)
        if let llama = model as? LlamaTrainingModel, configuration.dropout > 0 {
            llama.dropoutProbability = configuration.dropout
            llama.dropoutSeed = configuration.seed
            session.microBatchWillStart = { step, first in llama.dropoutPosition = (step, first) }
        }
    }

    /// Runs the next optimizer step and adds it to the totals (unless `counted` is false: warm-up).
    func step(counted: Bool = true) throws -> StepStatistics {
        let stats = try session.step()
        if counted { totals.add(stats) }
        return stats
    }

    /// Every rank's report line, in world-rank order, on every rank (a collective over the world).
    func gatherRankReports() throws -> [TrainRankReport] {
        let mine = [Double(ProcessMemory.peakResidentBytes()), totals.seconds, totals.communication, totals.exposed]
        let all = try groups.world.allGather(mine)
        return (0..<groups.world.size).map { rank in
            let v = Array(all[(rank * 4)..<(rank * 4 + 4)])
            let base = RankStatistics(rank: rank, coordinates: groups.layout.coordinates(of: rank), peakRSSBytes: Int(v[0]),
                                      computeSeconds: max(0, v[1] - v[3]), communicationSeconds: v[2], windowSeconds: v[1])
            return TrainRankReport(base: base, exposedCommunicationSeconds: v[3])
        }
    }
}

/// Sums over the counted steps of one rank.
struct RankTotals {
    var steps = 0
    var tokens = 0
    var seconds: Double = 0
    /// Tensor-group collectives plus data-parallel buckets, hidden or not.
    var communication: Double = 0
    /// Tensor-group collectives plus the unhidden bucket wait.
    var exposed: Double = 0

    mutating func add(_ stats: StepStatistics) {
        steps += 1
        tokens += stats.tokens
        seconds += stats.seconds
        communication += stats.tensorCommunicationSeconds + stats.dataCommunicationSeconds
        exposed += stats.exposedCommunicationSeconds
    }

    var tokensPerSecond: Double { seconds > 0 ? Double(tokens) / seconds : 0 }
}
