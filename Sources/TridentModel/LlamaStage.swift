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
    /// Accumulated compute and communication time.
    public private(set) var timings = RankTimings()

    private let attentionLayout: AttentionLayout
    /// Every rank's vocabulary rows, in rank order (for gathering logits).
    private let vocabularyWidths: [Int]

    public init(configuration: ModelConfiguration, plan: ShardingPlan, layers: Range<Int>,
                weights: LlamaWeights, cache: KVCache, tensorGroup: any Communicator, pool: ThreadPool) {
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
    /// - Returns: on the last stage, the requested logits (gathered on every rank of the tensor
    ///   group); otherwise the `[tokens, hidden]` activations for the next stage.
    public func forward(tokens: [Int32], hidden: [Float]? = nil, slot: Int, start: Int,
                        logits request: LogitsRequest) throws -> [Float] {
        let count = tokens.count
        try cache.checkRoom(slot: slot, start: start, count: count)
        var x = isFirst ? try embed(tokens) : hidden!
        precondition(x.count == count * configuration.hiddenSize, "activations do not match token count")
        for (local, _) in layers.enumerated() {
            try block(local, &x, tokens: count, slot: slot, start: start)
        }
        cache.setLength(start + count, slot: slot)
        guard isLast else { return x }
        switch request {
        case .none: return []
        case .last: return try logits(x, rows: count - 1 ..< count)
        case .all: return try logits(x, rows: 0 ..< count)
        }
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
    func block(_ local: Int, _ x: inout [Float], tokens: Int, slot: Int, start: Int) throws {
        let w = weights.layers[local]
        var h = [Float](repeating: 0, count: x.count)
        measureCompute { rmsNorm(x, weight: w.attentionNorm, into: &h, tokens: tokens) }
        var attention = try self.attention(h, layer: local, weights: w, tokens: tokens, slot: slot, start: start)
        try measureCommunication {
            try attention.withUnsafeMutableBufferPointer { try TensorParallelMappings.reduceFromRegion($0, group: tensorGroup) }
        }
        measureCompute {
            addInPlace(&x, attention)
            rmsNorm(x, weight: w.mlpNorm, into: &h, tokens: tokens)
        }
        var mlp = measureCompute { self.mlp(h, weights: w, tokens: tokens) }
        try measureCommunication {
            try mlp.withUnsafeMutableBufferPointer { try TensorParallelMappings.reduceFromRegion($0, group: tensorGroup) }
        }
        measureCompute { addInPlace(&x, mlp) }
    }

    /// This rank's query heads: q/k/v projections, RoPE, cache append, causal attention, and its
    /// partial output projection. - Returns: `[tokens, hidden]` partial sums (before the all-reduce).
    func attention(_ h: [Float], layer local: Int, weights w: LlamaLayerWeights,
                   tokens: Int, slot: Int, start: Int) throws -> [Float] {
        measureCompute {
            let c = configuration
            let hd = c.headDimension
            let heads = plan.queryHeads.count, kvHeads = plan.kvHeads.count
            var q = [Float](repeating: 0, count: tokens * heads * hd)        // [T, heads, hd]
            let keys = cache.keys(layer: local, slot: slot)                  // [capacity, kvHeads, hd]
            let values = cache.values(layer: local, slot: slot)
            let row = kvHeads * hd
            h.withUnsafeBufferPointer { hp in
                q.withUnsafeMutableBufferPointer { qp in
                    matmul(weight: w.query, input: hp.baseAddress!, output: qp.baseAddress!, tokens: tokens, pool: pool)
                }
                // K and V go straight into the cache rows of positions start ..< start + tokens.
                matmul(weight: w.key, input: hp.baseAddress!, output: keys + start * row, tokens: tokens, pool: pool)
                matmul(weight: w.value, input: hp.baseAddress!, output: values + start * row, tokens: tokens, pool: pool)
            }
            let positions = Array(start ..< start + tokens)
            positions.withUnsafeBufferPointer { pos in
                q.withUnsafeMutableBufferPointer { qp in
                    VectorKernels.rope(qp.baseAddress!, tokens: tokens, heads: heads, headDim: hd,
                                       positions: pos.baseAddress!, base: c.ropeTheta)
                }
                VectorKernels.rope(keys + start * row, tokens: tokens, heads: kvHeads, headDim: hd,
                                   positions: pos.baseAddress!, base: c.ropeTheta)
            }
            var context = [Float](repeating: 0, count: tokens * heads * hd)  // [T, heads, hd]
            q.withUnsafeBufferPointer { qp in
                context.withUnsafeMutableBufferPointer { out in
                    Attention.causal(queries: qp.baseAddress!, keys: keys, values: values, output: out.baseAddress!,
                                     tokens: tokens, startPosition: start, layout: attentionLayout, pool: pool)
                }
            }
            var out = [Float](repeating: 0, count: tokens * c.hiddenSize)   // [T, hidden]
            context.withUnsafeBufferPointer { cp in
                out.withUnsafeMutableBufferPointer { op in
                    matmul(weight: w.attentionOutput, input: cp.baseAddress!, output: op.baseAddress!,
                           tokens: tokens, pool: pool)
                }
            }
            return out
        }
    }

    /// This rank's slice of the SwiGLU MLP. - Returns: `[tokens, hidden]` partial sums.
    func mlp(_ h: [Float], weights w: LlamaLayerWeights, tokens: Int) -> [Float] {
        let width = w.gate.rows
        var gate = [Float](repeating: 0, count: tokens * width)   // [T, localFFN]
        var up = [Float](repeating: 0, count: tokens * width)     // [T, localFFN]
        var out = [Float](repeating: 0, count: tokens * configuration.hiddenSize)
        h.withUnsafeBufferPointer { hp in
            gate.withUnsafeMutableBufferPointer { gp in
                matmul(weight: w.gate, input: hp.baseAddress!, output: gp.baseAddress!, tokens: tokens, pool: pool)
            }
            up.withUnsafeMutableBufferPointer { up in
                matmul(weight: w.up, input: hp.baseAddress!, output: up.baseAddress!, tokens: tokens, pool: pool)
            }
        }
        gate.withUnsafeMutableBufferPointer { gp in
            up.withUnsafeBufferPointer { upp in
                VectorKernels.siluMultiply(gate: gp.baseAddress!, up: upp.baseAddress!, out: gp.baseAddress!,
                                           count: tokens * width)
            }
        }
        gate.withUnsafeBufferPointer { gp in
            out.withUnsafeMutableBufferPointer { op in
                matmul(weight: w.down, input: gp.baseAddress!, output: op.baseAddress!, tokens: tokens, pool: pool)
            }
        }
        return out
    }

    /// Final norm and vocabulary-parallel LM head for `rows` of `x`, gathered across the
    /// tensor group. - Returns: `[rows.count, vocabulary]`.
    func logits(_ x: [Float], rows: Range<Int>) throws -> [Float] {
        let d = configuration.hiddenSize
        let head = weights.output!
        let local: [Float] = measureCompute {
            var normed = [Float](repeating: 0, count: rows.count * d)
            let selected = Array(x[rows.lowerBound * d ..< rows.upperBound * d])
            rmsNorm(selected, weight: weights.outputNorm!, into: &normed, tokens: rows.count)
            var out = [Float](repeating: 0, count: rows.count * head.rows)   // [rows, localVocab]
            normed.withUnsafeBufferPointer { np in
                out.withUnsafeMutableBufferPointer { op in
                    matmul(weight: head, input: np.baseAddress!, output: op.baseAddress!, tokens: rows.count, pool: pool)
                }
            }
            return out
        }
        return try measureCommunication {
            try local.withUnsafeBufferPointer {
                try TensorParallelMappings.gatherFromRegion($0, rows: rows.count, widths: vocabularyWidths, group: tensorGroup)
            }
        }
    }

    // MARK: - Helpers

    private func rmsNorm(_ x: [Float], weight: [Float], into out: inout [Float], tokens: Int) {
        x.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                out.withUnsafeMutableBufferPointer { op in
                    VectorKernels.rmsNorm(xp.baseAddress!, weight: wp.baseAddress!, eps: configuration.rmsNormEpsilon,
                                          out: op.baseAddress!, tokens: tokens, dim: configuration.hiddenSize)
                }
            }
        }
    }

    private func addInPlace(_ x: inout [Float], _ y: [Float]) {
        x.withUnsafeMutableBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in
                VectorKernels.add(xp.baseAddress!, yp.baseAddress!, out: xp.baseAddress!, count: xp.count)
            }
        }
    }

    private func measureCompute<T>(_ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { timings.computeSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        return try body()
    }

    private func measureCommunication<T>(_ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { timings.communicationSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        return try body()
    }
}
