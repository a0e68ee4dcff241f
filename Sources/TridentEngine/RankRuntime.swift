import Foundation
import TridentCollectives
import TridentFormats
import TridentKernels
import TridentModel

/// Everything one rank needs to execute steps: its model stage and its groups.
///
/// Built the same way on every rank; the driver (world rank 0) wraps it in a
/// `DistributedRunner`, the others run a `WorkerLoop` over it.
public final class RankRuntime: @unchecked Sendable {
    public let stage: LlamaStage
    public let world: any Communicator
    public let loadSeconds: Double

    public init(stage: LlamaStage, world: any Communicator, loadSeconds: Double) {
        self.stage = stage
        self.world = world
        self.loadSeconds = loadSeconds
    }

    public var configuration: ModelConfiguration { stage.configuration }

    /// Loads this rank's shard of the GGUF model at `path`.
    ///
    /// The tensor-parallel size is checked against the model before any weight is read.
    /// Every rank of `world` must call this. With more than one rank, each rank reads only its
    /// own slices (with `pread`, keeping no mapping or metadata), so its peak resident memory
    /// is about 1/N of the weights plus its KV cache and the process's fixed costs. Logits
    /// are returned on world rank 0 only (`LogitsReceivers.firstRank`).
    /// - Parameters:
    ///   - capacity: positions per sequence slot in the KV cache.
    ///   - slots: sequences that can be in flight at once.
    public static func load(path: String, world: any Communicator, threads: Int,
                            capacity: Int, slots: Int = 1) throws -> RankRuntime {
        let started = DispatchTime.now().uptimeNanoseconds
        let (configuration, plan, weights) = try loadWeights(path: path, world: world)
        let layers = 0 ..< configuration.layerCount
        let cache = KVCache(layerCount: layers.count, slotCount: slots,
                            capacity: min(capacity, configuration.contextLength),
                            kvHeads: plan.kvHeads.count, headDimension: configuration.headDimension)
        let stage = LlamaStage(configuration: configuration, plan: plan, layers: layers, weights: weights,
                               cache: cache, tensorGroup: world, pool: ThreadPool(threadCount: threads),
                               logitsReceivers: .firstRank)  // only the driver (world rank 0) samples
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        return RankRuntime(stage: stage, world: world, loadSeconds: seconds)
    }

    /// One rank reads the whole model through the mapping (views, no copy). With more ranks,
    /// the parsed file (its metadata, e.g. ~100k tokenizer strings, and its mapping) is
    /// released before any weight is read, and each rank `pread`s only its own slices, so its
    /// peak resident memory is its slices plus the process's fixed costs.
    private static func loadWeights(path: String, world: any Communicator) throws
        -> (ModelConfiguration, ShardingPlan, LlamaWeights) {
        var file: GGUFFile? = try GGUFFile(path: path)
        let configuration = try ModelConfiguration(gguf: file!)
        let plan = try ShardingPlan(configuration: configuration, tensorParallelSize: world.size, rank: world.rank)
        let layers = 0 ..< configuration.layerCount
        guard world.size > 1 else {
            let weights = try LlamaWeights.load(from: file!, configuration: configuration, plan: plan, layers: layers,
                                                includeEmbedding: true, includeHead: true, copySlices: false)
            return (configuration, plan, weights)
        }
        let reader = GGUFTensorReader(file!)
        file = nil  // unmaps the file and frees its metadata before the slices are allocated
        ProcessMemory.returnFreedMemory()  // ... and hands the freed heap pages back
        let weights = try LlamaWeights.load(from: reader, configuration: configuration, plan: plan, layers: layers,
                                            includeEmbedding: true, includeHead: true)
        return (configuration, plan, weights)
    }

    /// Runs one command on this rank. - Returns: logits on the driver (world rank 0) when
    /// requested; empty on the other ranks.
    func execute(_ command: StepCommand) throws -> [Float] {
        switch command.opcode {
        case .forward:
            return try stage.forward(tokens: command.tokens, slot: command.slot, start: command.start,
                                     logits: command.logits)
        case .statistics, .shutdown:
            return []
        }
    }

    /// Gathers every rank's statistics (collective over `world`). - Returns: rank order.
    func gatherStatistics() throws -> [RankStatistics] {
        let t = stage.timings
        let mine: [Int64] = [Int64(world.rank), Int64(ProcessMemory.peakResidentBytes()),
                             Int64(t.computeSeconds * 1e9), Int64(t.communicationSeconds * 1e9)]
        var all = [Int64](repeating: 0, count: mine.count * world.size)
        try mine.withUnsafeBytes { input in
            try all.withUnsafeMutableBytes { try world.allGather(input, into: $0) }
        }
        return (0..<world.size).map { r in
            let v = all[r * 4 ..< r * 4 + 4].map { $0 }
            return RankStatistics(rank: Int(v[0]), peakRSSBytes: Int(v[1]),
                                  computeSeconds: Double(v[2]) / 1e9, communicationSeconds: Double(v[3]) / 1e9)
        }
    }
}
