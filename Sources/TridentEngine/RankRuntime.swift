import Foundation
import TridentCollectives
import TridentFormats
import TridentKernels
import TridentModel

/// Everything one rank needs to execute steps: its place on the grid, its groups, its model
/// stage and the pipeline executor that runs it.
///
/// Built the same way on every rank (`load`); the driver (world rank 0) wraps it in a
/// `DistributedRunner`, the others run a `WorkerLoop` over it.
public final class RankRuntime: @unchecked Sendable {
    public let groups: ProcessGroups
    public let placement: ModelPlacement
    /// This rank's blocks of its pipeline stage, sharded over its tensor group.
    public let stage: LlamaStage
    public let executor: PipelineExecutor
    public let loadSeconds: Double
    /// Records each forward step (prefill or decode), and through the stage and executor its
    /// micro-batches and blocks, as spans (nil: not traced). Set it on every rank, with a world
    /// wrapped in a `TracingCommunicator` over the same recorder to see the collectives too.
    public var trace: TraceRecorder? {
        didSet { stage.trace = trace; executor.trace = trace }
    }
    /// Start of the current measurement window (`resetStatistics`), uptime nanoseconds.
    private var windowStart = DispatchTime.now().uptimeNanoseconds

    /// World tag of the logits a replica's last stage sends to the driver.
    public static let logitsTag = MessageTag.logitsToDriver.rawValue

    init(groups: ProcessGroups, placement: ModelPlacement, stage: LlamaStage, loadSeconds: Double) {
        self.groups = groups
        self.placement = placement
        self.stage = stage
        self.executor = PipelineExecutor(stage: stage, pipelineGroup: groups.pipeline)
        self.loadSeconds = loadSeconds
    }

    public var world: any Communicator { groups.world }
    public var configuration: ModelConfiguration { stage.configuration }
    public var coordinates: ParallelCoordinates { groups.coordinates }

    // MARK: - Loading

    /// Loads this rank's part of the model at `path` (a GGUF file or a Hugging Face directory): the blocks of its pipeline stage
    /// (plus the embedding on stage 0 and the LM head on the last stage), sharded by its
    /// tensor-parallel rank, with a KV cache of `slotsPerReplica` sequences.
    ///
    /// Every rank of `world` must call this with the same arguments. The placement is checked
    /// against the model (tensor size against heads, stages against blocks, `pipelineLayers`)
    /// before any weight is read, then the ranks agree that every load succeeded (one
    /// all-reduce) before they split `world` into tensor, pipeline and data groups.
    /// When a rank holds less than the whole model it reads only its own slices with `pread`
    /// (keeping no mapping), so its peak resident memory is about its share of the weights
    /// plus its KV cache and the process's fixed costs.
    /// - Parameters:
    ///   - layout: the grid; nil means tensor parallelism over the whole world.
    ///   - pipelineLayers: blocks per stage (`"10,10,10"`); nil balances by estimated cost.
    ///   - capacity: positions per sequence slot (clipped to the model's context length).
    ///   - kvType: how the KV cache stores keys and values.
    /// - Throws: this rank's loading or placement error; `RankLoadFailure` naming the first
    ///   rank that failed when this rank itself loaded; `CollectiveError` from the group split.
    public static func load(path: String, world: any Communicator, layout: ParallelLayout? = nil,
                            pipelineLayers: String? = nil, threads: Int, capacity: Int,
                            slotsPerReplica: Int = 1, kvType: KVCacheType = .f32) throws -> RankRuntime {
        let started = DispatchTime.now().uptimeNanoseconds
        let logger = Self.logger(rank: world.rank)
        let layout = try layout ?? ParallelLayout(tensor: world.size)
        logger.debug("loading model", metadata: ["path": "\(path)", "grid": "\(layout.tensor)x\(layout.pipeline)x\(layout.data)",
                                                "threads": "\(threads)"])
        let loaded = Result {
            try layout.validate(worldSize: world.size)
            return try loadPart(path: path, layout: layout, rank: world.rank, pipelineLayers: pipelineLayers,
                                capacity: capacity, slotsPerReplica: slotsPerReplica, kvType: kvType)
        }
        try agreeOnLoad(loaded, world: world)
        let part = try loaded.get()
        let groups = try ProcessGroups.make(world: world, layout: layout)
        let stage = LlamaStage(configuration: part.configuration, plan: part.plan, layers: part.layers,
                               weights: part.weights, cache: part.cache, tensorGroup: groups.tensor,
                               pool: ThreadPool(threadCount: threads),
                               logitsReceivers: .firstRank)  // tensor rank 0 of the last stage sends them on
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let me = layout.coordinates(of: world.rank)
        logger.info("loaded shard", metadata: [
            "tp": "\(me.tensor)", "pp": "\(me.pipeline)", "dp": "\(me.data)", "layers": "\(part.layers)",
            "query_heads": "\(part.plan.queryHeads)", "kv_heads": "\(part.plan.kvHeads)",
            "cache_positions": "\(part.cache.capacity)", "kv_type": "\(kvType)", "seconds": "\(seconds)"])
        return RankRuntime(groups: groups, placement: part.placement, stage: stage, loadSeconds: seconds)
    }

    /// What one rank loads before any communication.
    private struct LoadedPart {
        var configuration: ModelConfiguration
        var placement: ModelPlacement
        var plan: ShardingPlan
        var layers: Range<Int>
        var weights: LlamaWeights
        var cache: KVCache
    }

    /// Validates the placement, then reads this rank's weights. A rank holding the whole model
    /// (no tensor or pipeline split) uses views of the mapping; any other rank releases the
    /// parsed file (its metadata, e.g. ~100k tokenizer strings, and its mapping) before reading
    /// its slices with `pread`.
    private static func loadPart(path: String, layout: ParallelLayout, rank: Int, pipelineLayers: String?,
                                 capacity: Int, slotsPerReplica: Int, kvType: KVCacheType) throws -> LoadedPart {
        var files: ModelFiles? = try ModelFiles(path: path)
        let configuration = files!.configuration
        let placement = try ModelPlacement(configuration: configuration, layout: layout,
                                           pipelineLayers: pipelineLayers, slotsPerReplica: slotsPerReplica)
        let me = layout.coordinates(of: rank)
        try files!.checkSupported()
        let plan = try ShardingPlan(configuration: configuration, tensorParallelSize: layout.tensor, rank: me.tensor,
                                    alignment: files!.mlpAlignment)
        let layers = placement.partition.layers(forStage: me.pipeline)
        let first = me.pipeline == 0, last = me.pipeline == layout.pipeline - 1
        let weights: LlamaWeights
        if layout.tensor == 1 && layout.pipeline == 1 {
            weights = try LlamaWeights.load(from: files!, plan: plan, layers: layers, includeEmbedding: true,
                                            includeHead: true, copySlices: false)
        } else {
            let slices = files!.forSlices()
            files = nil  // unmaps a GGUF file and frees its metadata before the slices are allocated
            ProcessMemory.returnFreedMemory()  // ... and hands the freed heap pages back
            weights = try LlamaWeights.load(from: slices, plan: plan, layers: layers, includeEmbedding: first,
                                            includeHead: last, copySlices: true)
        }
        let cache = KVCache(layerCount: layers.count, slotCount: slotsPerReplica,
                            capacity: min(capacity, configuration.contextLength),
                            kvHeads: plan.kvHeads.count, headDimension: configuration.headDimension, type: kvType)
        return LoadedPart(configuration: configuration, placement: placement, plan: plan, layers: layers,
                          weights: weights, cache: cache)
    }

    /// Every rank reports whether its load succeeded (one int32 max all-reduce over `world`),
    /// so a rank that failed never leaves the others waiting for a step that will not come.
    /// - Throws: this rank's own error, or `RankLoadFailure` naming the lowest failing rank.
    private static func agreeOnLoad<T>(_ loaded: Result<T, any Error>, world: any Communicator) throws {
        guard world.size > 1 else { _ = try loaded.get(); return }
        // Encoded as size - rank so that max picks the lowest failing rank; 0 means all loaded.
        var firstFailure: [Int32] = [0]
        if case .failure = loaded { firstFailure[0] = Int32(world.size - world.rank) }
        try firstFailure.withUnsafeMutableBytes { try world.allReduce($0, type: .int32, op: .max) }
        if case .failure(let error) = loaded { throw error }
        if firstFailure[0] > 0 { throw RankLoadFailure(rank: world.size - Int(firstFailure[0])) }
    }

    // MARK: - Steps

    /// Runs this rank's part of a forward step: the chunks in this rank's replica go through
    /// its pipeline as `command.microBatches` micro-batches, and each replica's last stage
    /// (tensor rank 0) sends their logits to the driver. Every rank of `world` must call this
    /// with the same commands in the same order; it does not wait for other replicas.
    /// - Returns: on world rank 0 when it is its replica's logits source (no pipeline), the
    ///   logits of its replica's chunks in command order; nil otherwise. The driver completes
    ///   the step with `collectLogits`.
    func run(_ command: StepCommand) throws -> [[Float]]? {
        precondition(command.opcode == .forward)
        let me = coordinates
        let mine = try command.chunks.filter { placement.replica(ofSlot: $0.slot) == me.data }.map { chunk in
            if let source = chunk.prefixSource, placement.replica(ofSlot: source) != me.data {
                throw StepCommandError.malformed("slot \(chunk.slot) copies its prefix from slot \(source) of another replica")
            }
            return SequenceChunk(slot: placement.localSlot(chunk.slot), start: chunk.start, tokens: chunk.tokens,
                                 logits: chunk.logits, prefixSource: chunk.prefixSource.map(placement.localSlot))
        }
        let logits = mine.isEmpty ? [] : try traceStep(mine) { try executor.run(mine, microBatches: command.microBatches) }
        guard stage.isLast && me.tensor == 0 else { return nil }
        guard world.rank != 0 else { return logits ?? [] }
        for values in logits ?? [] where !values.isEmpty {
            try world.send(values, to: 0, tag: Self.logitsTag)
        }
        return nil
    }

    /// Runs `body` as a `prefill` span (some chunk holds several tokens) or a `decode` span.
    private func traceStep<T>(_ chunks: [SequenceChunk], _ body: () throws -> T) rethrows -> T {
        guard let trace else { return try body() }
        let prefill = chunks.contains { $0.tokens.count > 1 }
        return try trace.record(prefill ? "prefill" : "decode", prefill ? .prefill : .decode, body)
    }

    /// World rank 0: each chunk's logits for a step whose `run` returned `local`: from this
    /// rank's own last stage (in the order of its replica's chunks) or received from the
    /// replica's last stage. Steps must be collected in the order they were run.
    func collectLogits(_ chunks: [SequenceChunk], local: [[Float]]?) throws -> [[Float]] {
        precondition(world.rank == 0)
        var nextLocal = 0
        let vocabulary = configuration.vocabularySize
        return try chunks.map { chunk in
            let source = placement.logitsSource(replica: placement.replica(ofSlot: chunk.slot))
            if source == 0 {
                defer { nextLocal += 1 }
                return local![nextLocal]
            }
            guard chunk.logitRows > 0 else { return [] }
            return try world.receive(Float.self, count: chunk.logitRows * vocabulary, from: source,
                                     tag: Self.logitsTag)
        }
    }

    // MARK: - Statistics

    /// Zeroes this rank's timings and starts a new measurement window.
    func resetStatistics() {
        stage.resetTimings()
        windowStart = DispatchTime.now().uptimeNanoseconds
    }

    /// Gathers every rank's statistics (collective over `world`). - Returns: world-rank order.
    func gatherStatistics() throws -> [RankStatistics] {
        let t = stage.timings
        let window = DispatchTime.now().uptimeNanoseconds - windowStart
        let fields = 5
        let mine: [Int64] = [Int64(world.rank), Int64(ProcessMemory.peakResidentBytes()),
                             Int64(t.computeSeconds * 1e9), Int64(t.communicationSeconds * 1e9), Int64(window)]
        let all = try world.allGather(mine)
        return (0..<world.size).map { r in
            let v = Array(all[r * fields ..< (r + 1) * fields])
            return RankStatistics(rank: Int(v[0]), coordinates: placement.layout.coordinates(of: Int(v[0])),
                                  peakRSSBytes: Int(v[1]), computeSeconds: Double(v[2]) / 1e9,
                                  communicationSeconds: Double(v[3]) / 1e9, windowSeconds: Double(v[4]) / 1e9)
        }
    }
}

/// Another rank of the world failed to load the model (that rank reports its own error).
public struct RankLoadFailure: Error, CustomStringConvertible, Equatable {
    public let rank: Int
    public var description: String { "rank \(rank) failed to load the model (see its error)" }
}
