import Foundation
import TridentCollectives
import TridentKernels

/// What logits a forward step should produce.
public enum LogitsRequest: Sendable, Equatable {
    /// None (a pipeline stage that is not the last, or a prefill whose logits are unused).
    case none
    /// Only the last position's: `[vocabulary]`.
    case last
    /// Every position's: `[tokens, vocabulary]` (perplexity).
    case all
}

/// Which ranks of the tensor group receive a step's logits.
public enum LogitsReceivers: Sendable, Equatable {
    /// Every rank (an all-gather).
    case everyRank
    /// Only tensor-group rank 0 (the driver); the others send it their vocabulary slices and
    /// get an empty array. Half the traffic, and no rank waits for logits it would discard.
    case firstRank
}

/// Time a rank spent computing and communicating, for `--json` stats and benchmarks.
public struct RankTimings: Sendable, Codable, Equatable {
    public var computeSeconds: Double = 0
    public var communicationSeconds: Double = 0
    public init() {}
}

/// A contiguous range of transformer blocks on one tensor-parallel rank, with the embedding if
/// it is the first pipeline stage and the final norm and LM head if it is the last:
/// `x = embedding(tokens)`, `x = block(x)` for each block, `logits = head(x)`.
///
/// Tensor parallelism is Megatron's, inside the layers (`ParallelAttention`, `ParallelMLP`,
/// `VocabParallelEmbedding`, `LMHead`), each calling its own mapping over `tensorGroup`.
/// Every rank of `tensorGroup` must call `forward` with the same arguments, in the same order.
public final class LlamaStage: @unchecked Sendable {
    public let configuration: ModelConfiguration
    public let plan: ShardingPlan
    /// Global indices of the blocks this stage runs.
    public let layers: Range<Int>
    /// The embedding, blocks and head this stage runs.
    public let modules: StageModules
    public let cache: KVCache
    /// The tensor group the layers communicate over, timed.
    public let tensorGroup: TimedCommunicator
    public let pool: ThreadPool
    /// Which ranks `forward` returns logits on.
    public let logitsReceivers: LogitsReceivers
    /// The group, threads and scratch buffers every pass uses (decode steps allocate nothing).
    let context: InferenceContext
    /// Wall-clock seconds inside `forward` since the last `resetTimings`.
    private var passSeconds: Double = 0
    /// Records each block and the LM head of a pass as a span (nil: not traced, no cost).
    public var trace: TraceRecorder?

    /// - Parameters:
    ///   - layers: global indices of `modules.blocks`.
    ///   - cache: one cache layer per block, with this rank's KV heads.
    ///   - logitsReceivers: `.everyRank` (default) or `.firstRank` when only the driver uses
    ///     logits; every rank of `tensorGroup` must pass the same value.
    public init(configuration: ModelConfiguration, plan: ShardingPlan, layers: Range<Int>, modules: StageModules,
                cache: KVCache, tensorGroup: any Communicator, pool: ThreadPool,
                logitsReceivers: LogitsReceivers = .everyRank) {
        precondition(tensorGroup.size == plan.tensorParallelSize && tensorGroup.rank == plan.tensorParallelRank,
                     "tensor group (rank \(tensorGroup.rank) of \(tensorGroup.size)) does not match the sharding plan")
        precondition(modules.blocks.count == layers.count && cache.layerCount == layers.count
                     && cache.kvHeads == plan.kvHeads.count)
        self.configuration = configuration
        self.plan = plan
        self.layers = layers
        self.modules = modules
        self.cache = cache
        self.tensorGroup = TimedCommunicator(tensorGroup)
        self.pool = pool
        self.logitsReceivers = logitsReceivers
        self.context = InferenceContext(group: self.tensorGroup, pool: pool)
    }

    /// A Llama stage over weights loaded from a GGUF file (see `StageModules(llama:)`).
    public convenience init(configuration: ModelConfiguration, plan: ShardingPlan, layers: Range<Int>,
                            weights: LlamaWeights, cache: KVCache, tensorGroup: any Communicator, pool: ThreadPool,
                            logitsReceivers: LogitsReceivers = .everyRank) {
        self.init(configuration: configuration, plan: plan, layers: layers,
                  modules: StageModules(llama: weights, configuration: configuration, plan: plan), cache: cache,
                  tensorGroup: tensorGroup, pool: pool, logitsReceivers: logitsReceivers)
    }

    public var isFirst: Bool { modules.embedding != nil }
    public var isLast: Bool { modules.head != nil }

    /// Compute and communication time since the last `resetTimings`: communication is the time
    /// inside `tensorGroup`'s calls, compute the rest of the passes' time.
    public var timings: RankTimings {
        var t = RankTimings()
        t.communicationSeconds = tensorGroup.seconds
        t.computeSeconds = max(passSeconds - t.communicationSeconds, 0)
        return t
    }

    /// Zeroes `timings` (e.g. at the start of a benchmark's measurement window).
    public func resetTimings() {
        passSeconds = 0
        tensorGroup.reset()
    }

    /// Runs `tokens` (positions `start ..< start + tokens.count` of sequence `slot`) through
    /// this stage. The first stage embeds `tokens`; later stages take `hidden`.
    /// - Parameter hidden: `[tokens, hidden]` activations from the previous stage (ignored on the first).
    /// - Returns: on the last stage, the requested logits (on every rank of the tensor group,
    ///   or with `logitsReceivers == .firstRank` on its rank 0 and empty elsewhere); otherwise the `[tokens, hidden]` activations for the next stage.
    public func forward(tokens: [Int32], hidden: [Float]? = nil, slot: Int, start: Int,
                        logits request: LogitsRequest) throws -> [Float] {
        let chunk = SequenceChunk(slot: slot, start: start, tokens: tokens, logits: request)
        switch try forward([chunk], hidden: hidden) {
        case .activations(let x): return x
        case .logits(let perChunk): return perChunk[0]
        }
    }

    /// What one pass of a stage produces.
    public enum Output: Sendable {
        /// Not the last stage: `[rows, hidden]` for the next stage, rows in chunk order.
        case activations([Float])
        /// The last stage: each chunk's requested logits (`[]` for `.none`, `[vocabulary]` for
        /// `.last`, `[tokens, vocabulary]` for `.all`; all `[]` on a tensor rank that receives none).
        case logits([[Float]])
    }

    /// Runs several chunks as one batch of rows (every weight matrix is read once for all of
    /// them); each chunk attends to its own sequence's cache. The first stage embeds the chunks'
    /// tokens; later stages take `hidden`, `[rows, hidden]` with rows in chunk order.
    /// A chunk with a `prefixSource` first gets that slot's positions `0..<start` copied in.
    /// - Precondition: chunks of one slot come in position order.
    /// - Throws: `KVCacheError` when a chunk does not fit its slot (before any work), the
    ///   tensor group's collective errors.
    public func forward(_ chunks: [SequenceChunk], hidden: [Float]? = nil) throws -> Output {
        precondition(!chunks.isEmpty, "a pass needs at least one chunk")
        for chunk in chunks { try cache.checkRoom(slot: chunk.slot, start: chunk.start, count: chunk.tokens.count) }
        for chunk in chunks {
            if let source = chunk.prefixSource { try cache.copyPrefix(from: source, to: chunk.slot, count: chunk.start) }
        }
        let started = DispatchTime.now().uptimeNanoseconds
        defer { passSeconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }
        let pass = PassLayout(chunks, context: context)
        let d = configuration.hiddenSize
        var x = hidden ?? []   // [rows, hidden]: the residual stream
        if isFirst {   // the embedding writes every element
            x = [Float](unsafeUninitializedCapacity: pass.rows * d) { _, count in count = pass.rows * d }
        }
        precondition(x.count == pass.rows * d, "activations do not match the chunks' tokens")
        try x.withUnsafeMutableBufferPointer { buffer in
            let stream = MatrixView(buffer.baseAddress!, rows: pass.rows, columns: d)
            if let embedding = modules.embedding {
                try embedding.forward(chunks.count == 1 ? chunks[0].tokens : chunks.flatMap(\.tokens), into: stream,
                                      context: context)
                modules.positionEmbedding?.forward(stream, positions: pass.positions)
            }
            for (layer, block) in modules.blocks.enumerated() {
                guard let trace else {
                    try block.forward(stream, pass: pass, cache: cache, layer: layer, context: context)
                    continue
                }
                try trace.record("block \(layers.lowerBound + layer)", .block) {
                    try block.forward(stream, pass: pass, cache: cache, layer: layer, context: context)
                }
            }
        }
        for chunk in chunks { cache.setLength(chunk.start + chunk.tokens.count, slot: chunk.slot) }
        guard let head = modules.head else { return .activations(x) }
        guard let trace else { return .logits(try logits(&x, for: pass, head: head)) }
        return .logits(try trace.record("lm head", .block) { try logits(&x, for: pass, head: head) })
    }
}
