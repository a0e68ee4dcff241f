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
         threads: Int, pipelineSchedule: PipelineTrainingSchedule = .oneFOneB, zero: ZeroStage = .off,
         makeModel: (ProcessGroups, ThreadPool) throws -> any TrainableModel) throws {
        let plain = try ProcessGroups.make(world: world, layout: layout)
        timedTensor = TimedCommunicator(plain.tensor)
        groups = ProcessGroups(world: plain.world, tensor: timedTensor, pipeline: plain.pipeline, data: plain.data,
                               layout: layout)
        let pool = ThreadPool(threadCount: threads)
        let model = try makeModel(groups, pool)
        session = try TrainingSession(model: model, groups: groups, configuration: configuration, tokens: tokens, pool: pool,
                                      pipelineSchedule: pipelineSchedule, zero: zero)
        if let stage = model as? any PipelineStageChunks, configuration.dropout > 0 {
            let chunks = stage.chunks
            for llama in chunks {
                llama.dropoutProbability = configuration.dropout
                llama.dropoutSeed = configuration.seed
            }
            session.microBatchWillStart = { step, first in for llama in chunks { llama.dropoutPosition = (step, first) } }
        }
    }

    /// From now on, records this rank's timeline: a barrier over the world, then a recorder
    /// whose origin every rank takes right after it. Every rank of the world must call this.
    func startTrace() throws {
        try groups.world.barrier()
        session.trace = TraceRecorder(rank: groups.world.rank)
    }

    /// Gathers every rank's timeline; world rank 0 writes it to `path` as Chrome trace-event
    /// JSON. Does nothing unless `startTrace` ran. Every rank of the world must call this.
    func writeTrace(to path: String) throws {
        guard let trace = session.trace else { return }
        try TraceGathering.write(trace, over: groups.world, to: path)
    }

    /// Runs the next optimizer step and adds it to the totals (unless `counted` is false: warm-up).
    func step(counted: Bool = true) throws -> StepStatistics {
        let stats = try session.step()
        if counted {
            totals.add(stats)
            if let pipeline = session.pipeline?.lastStep { totals.add(pipeline) }
            totals.add(session.lastSavedActivations)
        }
        return stats
    }

    /// Every rank's report line, in world-rank order, on every rank (a collective over the world).
    func gatherRankReports() throws -> [TrainRankReport] {
        let fields = 9
        let mine = [Double(ProcessMemory.peakResidentBytes()), totals.seconds, totals.communication, totals.exposed,
                    totals.idleFraction, Double(totals.peakSavedMicroBatches), Double(totals.peakSavedBytes),
                    Double(session.optimizer.stateBytes), totals.hiddenTensor]
        let all = try groups.world.allGather(mine)
        let pipelined = groups.layout.pipeline > 1
        return (0..<groups.world.size).map { rank in
            let v = Array(all[(rank * fields)..<(rank * fields + fields)])
            let base = RankStatistics(rank: rank, coordinates: groups.layout.coordinates(of: rank), peakRSSBytes: Int(v[0]),
                                      computeSeconds: max(0, v[1] - v[3]), communicationSeconds: v[2], windowSeconds: v[1])
            let stage = PipelineRankReport(idleFraction: pipelined ? v[4] : nil, peakActivationMicroBatches: Int(v[5]),
                                           peakActivationBytes: Int(v[6]))
            return TrainRankReport(base: base, exposedCommunicationSeconds: v[3], pipeline: stage, optimizerStateBytes: Int(v[7]),
                                   hiddenTensorCommunicationSeconds: v[8])
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
    /// Tensor-group collectives not hidden (`--tp-comm-overlap`) plus the unhidden bucket wait.
    var exposed: Double = 0
    /// Tensor-group all-reduces run while this rank computed (`--tp-comm-overlap`).
    var hiddenTensor: Double = 0

    /// Pipeline phase (forward/backward of every micro-batch) and the compute inside it.
    var pipelineSeconds: Double = 0
    var pipelineComputeSeconds: Double = 0
    var peakSavedMicroBatches = 0
    var peakSavedBytes = 0

    mutating func add(_ pipeline: PipelineStepStatistics) {
        pipelineSeconds += pipeline.seconds
        pipelineComputeSeconds += pipeline.computeSeconds
    }

    /// Keeps the most saved activations of any step (pipelined or not).
    mutating func add(_ saved: SavedActivationPeak) {
        peakSavedMicroBatches = max(peakSavedMicroBatches, saved.microBatches)
        peakSavedBytes = max(peakSavedBytes, saved.bytes)
    }

    /// The fraction of the pipeline phase this rank did not compute (its bubble plus frames).
    var idleFraction: Double { pipelineSeconds > 0 ? max(0, 1 - pipelineComputeSeconds / pipelineSeconds) : 0 }

    mutating func add(_ stats: StepStatistics) {
        steps += 1
        tokens += stats.tokens
        seconds += stats.seconds
        communication += stats.tensorCommunicationSeconds + stats.dataCommunicationSeconds
        exposed += stats.exposedCommunicationSeconds
        hiddenTensor += stats.hiddenTensorCommunicationSeconds
    }

    var tokensPerSecond: Double { seconds > 0 ? Double(tokens) / seconds : 0 }
}
