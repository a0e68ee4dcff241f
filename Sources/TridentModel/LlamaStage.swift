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

/// A contiguous range of Llama blocks on one tensor-parallel rank, with the embedding if it
/// is the first pipeline stage and the final norm and LM head if it is the last.
///
/// Tensor parallelism is Megatron's: q/k/v and gate/up are column-parallel, the attention
/// output and down projections row-parallel and each followed by one all-reduce over
/// `tensorGroup` (two per block). The embedding and LM head are vocabulary-parallel.
/// Every rank of `tensorGroup` must call `forward` with the same arguments, in the same order.
public final class LlamaStage: @unchecked Sendable {
    public let configuration: ModelConfiguration
    public let plan: ShardingPlan
    /// Global indices of the blocks this stage runs.
    public let layers: Range<Int>
    public let weights: LlamaWeights
    public let cache: KVCache
    public let tensorGroup: any Communicator
    public let pool: ThreadPool
    /// Accumulated compute and communication time (since the last `resetTimings`).
    public private(set) var timings = RankTimings()

    /// Zeroes `timings` (e.g. at the start of a benchmark's measurement window).
    public func resetTimings() { timings = RankTimings() }

    /// Which ranks `forward` returns logits on.
    public let logitsReceivers: LogitsReceivers

    private let attentionLayout: AttentionLayout
    /// Activation buffers reused by every step (decode steps allocate nothing).
    let workspace = StageWorkspace()
    /// Every rank's vocabulary rows, in rank order (for gathering logits).
    let vocabularyWidths: [Int]

    /// - Parameter logitsReceivers: `.everyRank` (default) or `.firstRank` when only the
    ///   driver uses logits; every rank of `tensorGroup` must pass the same value.
    public init(configuration: ModelConfiguration, plan: ShardingPlan, layers: Range<Int>,
                weights: LlamaWeights, cache: KVCache, tensorGroup: any Communicator, pool: ThreadPool,
                logitsReceivers: LogitsReceivers = .everyRank) {
        precondition(tensorGroup.size == plan.tensorParallelSize && tensorGroup.rank == plan.tensorParallelRank,
                     "tensor group (rank \(tensorGroup.rank) of \(tensorGroup.size)) does not match the sharding plan")
        precondition(cache.layerCount == layers.count && cache.kvHeads == plan.kvHeads.count)
        self.configuration = configuration
        self.plan = plan
        self.layers = layers
        self.weights = weights
        self.cache = cache
        self.tensorGroup = tensorGroup
        self.pool = pool
        self.logitsReceivers = logitsReceivers
        self.attentionLayout = AttentionLayout(
            heads: plan.queryHeads.count, kvHeads: plan.kvHeads.count, headDim: configuration.headDimension,
            kvHeadForHead: plan.localKVHeadForQueryHead(groupSize: configuration.groupSize))
        self.vocabularyWidths = (0..<plan.tensorParallelSize).map {
            ShardingPlan.evenSplit(configuration.vocabularySize, parts: plan.tensorParallelSize, index: $0).count
        }
    }

    public var isFirst: Bool { weights.embedding != nil }
    public var isLast: Bool { weights.output != nil }

    // MARK: - Whole step

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
    /// - Precondition: chunks of one slot come in position order.
    /// - Throws: `KVCacheError` when a chunk does not fit its slot (before any work), the
    ///   tensor group's collective errors.
    public func forward(_ chunks: [SequenceChunk], hidden: [Float]? = nil) throws -> Output {
        precondition(!chunks.isEmpty, "a pass needs at least one chunk")
        for chunk in chunks { try cache.checkRoom(slot: chunk.slot, start: chunk.start, count: chunk.tokens.count) }
        let rows = chunks.reduce(0) { $0 + $1.tokens.count }
        var x = isFirst ? try embed(chunks.flatMap(\.tokens)) : hidden!
        precondition(x.count == rows * configuration.hiddenSize, "activations do not match the chunks' tokens")
        let pass = PassLayout(chunks)
        for (local, _) in layers.enumerated() {
            try block(local, &x, pass)
        }
        for chunk in chunks { cache.setLength(chunk.start + chunk.tokens.count, slot: chunk.slot) }
        guard isLast else { return .activations(x) }
        return .logits(try logits(x, for: pass))
    }

    // MARK: - Pieces

    /// Vocabulary-parallel embedding lookup: each rank fills the rows of tokens in its
    /// vocabulary slice, zeros elsewhere, then one all-reduce.
    /// - Returns: `[tokens, hidden]`.
    public func embed(_ tokens: [Int32]) throws -> [Float] {
        let embedding = weights.embedding!
        let d = configuration.hiddenSize
        var x = [Float](repeating: 0, count: tokens.count * d)
        let vocab = plan.vocabularyRows
        measureCompute {
            x.withUnsafeMutableBufferPointer { out in
                for (t, id) in tokens.enumerated() where vocab.contains(Int(id)) {
                    dequantizeRow(embedding, row: Int(id) - vocab.lowerBound, into: out.baseAddress! + t * d)
                }
            }
        }
        try measureCommunication {
            try x.withUnsafeMutableBufferPointer { try TensorParallelMappings.reduceFromRegion($0, group: tensorGroup) }
        }
        return x
    }

    /// One transformer block: `x = x + attention(norm(x)); x = x + mlp(norm(x))`.
    func block(_ local: Int, _ x: inout [Float], _ pass: PassLayout) throws {
        let w = weights.layers[local]
        let tokens = pass.rows
        let n = x.count                                      // tokens * hidden
        let h = workspace.normed.reserve(n)                  // [T, hidden]
        let partial = workspace.partial.reserve(n)           // [T, hidden], summed over the group
        let eps = configuration.rmsNormEpsilon, d = configuration.hiddenSize
        try x.withUnsafeMutableBufferPointer { xb in
            let x = xb.baseAddress!
            measureCompute {
                w.attentionNorm.withUnsafeBufferPointer {
                    VectorKernels.rmsNorm(x, weight: $0.baseAddress!, eps: eps, out: h, tokens: tokens, dim: d)
                }
                attention(h, into: partial, layer: local, weights: w, pass: pass)
            }
            try measureCommunication {
                try TensorParallelMappings.reduceFromRegion(UnsafeMutableBufferPointer(start: partial, count: n),
                                                            group: tensorGroup)
            }
            measureCompute {
                VectorKernels.add(x, partial, out: x, count: n)
                w.mlpNorm.withUnsafeBufferPointer {
                    VectorKernels.rmsNorm(x, weight: $0.baseAddress!, eps: eps, out: h, tokens: tokens, dim: d)
                }
                mlp(h, into: partial, weights: w, tokens: tokens)
            }
            try measureCommunication {
                try TensorParallelMappings.reduceFromRegion(UnsafeMutableBufferPointer(start: partial, count: n),
                                                            group: tensorGroup)
            }
            measureCompute { VectorKernels.add(x, partial, out: x, count: n) }
        }
    }

    /// This rank's query heads: q/k/v projections, RoPE, cache append, causal attention, and its
    /// partial output projection, for every chunk of the pass.
    /// - Parameters:
    ///   - h: `[rows, hidden]` normed activations.
    ///   - out: `[rows, hidden]` receives the partial sums (before the all-reduce).
    func attention(_ h: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, layer local: Int,
                   weights w: LlamaLayerWeights, pass: PassLayout) {
        let c = configuration
        let hd = c.headDimension, tokens = pass.rows
        let heads = plan.queryHeads.count, kvHeads = plan.kvHeads.count
        let q = workspace.innerA.reserve(tokens * heads * hd)          // [T, heads, hd]
        let context = workspace.innerB.reserve(tokens * heads * hd)  // [T, heads, hd]
        let row = kvHeads * hd
        let positions = workspace.positions(pass)
        matmul(weight: w.query, input: h, output: q, tokens: tokens, pool: pool)
        VectorKernels.rope(q, tokens: tokens, heads: heads, headDim: hd, positions: positions, base: c.ropeTheta)
        if pass.chunks.count == 1 {
            // K and V go straight into the cache rows of positions start ..< start + tokens.
            let chunk = pass.chunks[0]
            let keys = cache.keys(layer: local, slot: chunk.slot) + chunk.start * row
            matmul(weight: w.key, input: h, output: keys, tokens: tokens, pool: pool)
            matmul(weight: w.value, input: h, output: cache.values(layer: local, slot: chunk.slot) + chunk.start * row,
                   tokens: tokens, pool: pool)
            VectorKernels.rope(keys, tokens: tokens, heads: kvHeads, headDim: hd, positions: positions, base: c.ropeTheta)
        } else {
            // Several sequences: project every row at once, then copy each chunk's rows into its slot.
            let keys = workspace.keys.reserve(tokens * row), values = workspace.values.reserve(tokens * row)
            matmul(weight: w.key, input: h, output: keys, tokens: tokens, pool: pool)
            matmul(weight: w.value, input: h, output: values, tokens: tokens, pool: pool)
            VectorKernels.rope(keys, tokens: tokens, heads: kvHeads, headDim: hd, positions: positions, base: c.ropeTheta)
            for (chunk, first) in zip(pass.chunks, pass.firstRows) {
                let count = chunk.tokens.count * row
                (cache.keys(layer: local, slot: chunk.slot) + chunk.start * row).update(from: keys + first * row, count: count)
                (cache.values(layer: local, slot: chunk.slot) + chunk.start * row).update(from: values + first * row, count: count)
            }
        }
        // Every chunk's K/V is in the cache before any chunk attends (consecutive chunks of one
        // sequence in one pass see each other's keys).
        for (chunk, first) in zip(pass.chunks, pass.firstRows) {
            Attention.causal(queries: q + first * heads * hd, keys: cache.keys(layer: local, slot: chunk.slot),
                             values: cache.values(layer: local, slot: chunk.slot), output: context + first * heads * hd,
                             tokens: chunk.tokens.count, startPosition: chunk.start, layout: attentionLayout, pool: pool)
        }
        matmul(weight: w.attentionOutput, input: context, output: out, tokens: tokens, pool: pool)
    }

    /// This rank's slice of the SwiGLU MLP.
    /// - Parameters:
    ///   - h: `[tokens, hidden]` normed activations.
    ///   - out: `[tokens, hidden]` receives the partial sums (before the all-reduce).
    func mlp(_ h: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, weights w: LlamaLayerWeights,
             tokens: Int) {
        let width = w.gate.rows
        let gate = workspace.innerA.reserve(tokens * width)   // [T, localFFN]
        let up = workspace.innerB.reserve(tokens * width)       // [T, localFFN]
        matmul(weight: w.gate, input: h, output: gate, tokens: tokens, pool: pool)
        matmul(weight: w.up, input: h, output: up, tokens: tokens, pool: pool)
        VectorKernels.siluMultiply(gate: gate, up: up, out: gate, count: tokens * width)
        matmul(weight: w.down, input: gate, output: out, tokens: tokens, pool: pool)
    }

    // MARK: - Timing

    func measureCompute<T>(_ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { timings.computeSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        return try body()
    }

    func measureCommunication<T>(_ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { timings.communicationSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        return try body()
    }
}
