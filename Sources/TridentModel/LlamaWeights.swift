import Foundation
import TridentFormats
import TridentKernels

/// The weights of one transformer block, as this rank holds them.
public struct LlamaLayerWeights: Sendable {
    /// `[hidden]` f32.
    public var attentionNorm: [Float]
    /// `[localHeads * headDim, hidden]`: column-parallel (output rows split by query head).
    public var query: WeightMatrix
    /// `[localKVHeads * headDim, hidden]`: column-parallel.
    public var key: WeightMatrix
    /// `[localKVHeads * headDim, hidden]`: column-parallel.
    public var value: WeightMatrix
    /// `[hidden, localHeads * headDim]`: row-parallel (input columns split by query head).
    public var attentionOutput: WeightMatrix
    /// `[hidden]` f32.
    public var mlpNorm: [Float]
    /// `[localFFN, hidden]`: column-parallel.
    public var gate: WeightMatrix
    /// `[localFFN, hidden]`: column-parallel.
    public var up: WeightMatrix
    /// `[hidden, localFFN]`: row-parallel.
    public var down: WeightMatrix
}

/// The tensors one rank reads from a GGUF Llama file, by their file names: its layers' slices,
/// plus the embedding (first pipeline stage) and final norm and LM head (last stage),
/// vocabulary-parallel. `StageModules(llama:configuration:plan:)` turns them into layers that
/// share the same storage.
public struct LlamaWeights: Sendable {
    /// `[localVocab, hidden]`, rows `plan.vocabularyRows`; nil off the first stage.
    public var embedding: WeightMatrix?
    /// Blocks `layers`, in order.
    public var layers: [LlamaLayerWeights]
    /// `[hidden]`; nil off the last stage.
    public var outputNorm: [Float]?
    /// `[localVocab, hidden]`, rows `plan.vocabularyRows`; nil off the last stage.
    public var output: WeightMatrix?
    /// Bytes of weight data this rank references.
    public var byteCount: Int {
        var total = (embedding?.byteCount ?? 0)
        if let o = output, o.base != embedding?.base { total += o.byteCount }
        for l in layers {
            total += l.query.byteCount + l.key.byteCount + l.value.byteCount + l.attentionOutput.byteCount
            total += l.gate.byteCount + l.up.byteCount + l.down.byteCount
        }
        return total
    }

    /// Reads this rank's part of a GGUF Llama model.
    ///
    /// With `copySlices` each sliced tensor is read (with `pread`) into memory this rank owns,
    /// so only its own slices become resident and the mapping's pages are never touched;
    /// without it, whole-tensor views into the memory-mapped file are used (no copy, for one rank).
    /// - Throws: `ModelLoadingError` for missing tensors, wrong shapes or unsupported types;
    ///   `GGUFError` when the file cannot be read.
    public static func load(from file: GGUFFile, configuration c: ModelConfiguration, plan: ShardingPlan,
                            layers: Range<Int>, includeEmbedding: Bool, includeHead: Bool,
                            copySlices: Bool) throws -> LlamaWeights {
        try load(WeightLoader(.mapped(file, copySlices: copySlices)), configuration: c, plan: plan, layers: layers,
                 includeEmbedding: includeEmbedding, includeHead: includeHead)
    }

    /// Reads this rank's part of a GGUF Llama model into memory it owns, without mapping the
    /// file: peak resident memory is about this rank's slices (no file pages, no metadata
    /// once the parsed `GGUFFile` that made `reader` is gone).
    /// - Throws: `ModelLoadingError` for missing tensors, wrong shapes or unsupported types;
    ///   `GGUFError` when the file cannot be read.
    public static func load(from reader: GGUFTensorReader, configuration c: ModelConfiguration, plan: ShardingPlan,
                            layers: Range<Int>, includeEmbedding: Bool, includeHead: Bool) throws -> LlamaWeights {
        try load(WeightLoader(.reader(reader)), configuration: c, plan: plan, layers: layers,
                 includeEmbedding: includeEmbedding, includeHead: includeHead)
    }

    private static func load(_ loader: WeightLoader, configuration c: ModelConfiguration, plan: ShardingPlan,
                             layers: Range<Int>, includeEmbedding: Bool, includeHead: Bool) throws -> LlamaWeights {
        let hd = c.headDimension
        let q = plan.queryHeads, kv = plan.kvHeads, ffn = plan.mlpColumns
        var blocks: [LlamaLayerWeights] = []
        for i in layers {
            let p = "blk.\(i)."
            blocks.append(LlamaLayerWeights(
                attentionNorm: try loader.vector(p + "attn_norm.weight", count: c.hiddenSize),
                query: try loader.matrix(p + "attn_q.weight", shape: (c.queryDimension, c.hiddenSize),
                                         rows: q.lowerBound * hd ..< q.upperBound * hd),
                key: try loader.matrix(p + "attn_k.weight", shape: (c.kvDimension, c.hiddenSize),
                                       rows: kv.lowerBound * hd ..< kv.upperBound * hd),
                value: try loader.matrix(p + "attn_v.weight", shape: (c.kvDimension, c.hiddenSize),
                                         rows: kv.lowerBound * hd ..< kv.upperBound * hd),
                attentionOutput: try loader.matrix(p + "attn_output.weight", shape: (c.hiddenSize, c.queryDimension),
                                                   columns: q.lowerBound * hd ..< q.upperBound * hd),
                mlpNorm: try loader.vector(p + "ffn_norm.weight", count: c.hiddenSize),
                gate: try loader.matrix(p + "ffn_gate.weight", shape: (c.intermediateSize, c.hiddenSize), rows: ffn),
                up: try loader.matrix(p + "ffn_up.weight", shape: (c.intermediateSize, c.hiddenSize), rows: ffn),
                down: try loader.matrix(p + "ffn_down.weight", shape: (c.hiddenSize, c.intermediateSize), columns: ffn)))
        }
        let vocab = plan.vocabularyRows
        var embedding: WeightMatrix?
        if includeEmbedding || (includeHead && c.tiedEmbeddings) {
            embedding = try loader.matrix("token_embd.weight", shape: (c.vocabularySize, c.hiddenSize), rows: vocab)
        }
        var output: WeightMatrix?
        var outputNorm: [Float]?
        if includeHead {
            outputNorm = try loader.vector("output_norm.weight", count: c.hiddenSize)
            output = c.tiedEmbeddings ? embedding
                : try loader.matrix("output.weight", shape: (c.vocabularySize, c.hiddenSize), rows: vocab)
        }
        return LlamaWeights(embedding: includeEmbedding ? embedding : nil, layers: blocks,
                            outputNorm: outputNorm, output: output)
    }
}
