import Foundation
import TridentFormats
import TridentKernels

/// The weights of one transformer block, as this rank holds them. Biases and LayerNorm shifts
/// are present only for architectures that have them (`ModelConfiguration`).
public struct LlamaLayerWeights: Sendable {
    /// `[hidden]` f32.
    public var attentionNorm: [Float]
    /// `[hidden]` f32 (LayerNorm's shift), or nil.
    public var attentionNormBias: [Float]? = nil
    /// `[localHeads * headDim, hidden]`: column-parallel (output rows split by query head).
    public var query: WeightMatrix
    /// `[localKVHeads * headDim, hidden]`: column-parallel.
    public var key: WeightMatrix
    /// `[localKVHeads * headDim, hidden]`: column-parallel.
    public var value: WeightMatrix
    /// `[localHeads * headDim]`, `[localKVHeads * headDim]` twice: this rank's q/k/v biases, or nil.
    public var queryBias: [Float]? = nil, keyBias: [Float]? = nil, valueBias: [Float]? = nil
    /// `[hidden, localHeads * headDim]`: row-parallel (input columns split by query head).
    public var attentionOutput: WeightMatrix
    /// `[hidden]` (replicated), or nil.
    public var attentionOutputBias: [Float]? = nil
    /// `[hidden]` f32.
    public var mlpNorm: [Float]
    /// `[hidden]` f32, or nil.
    public var mlpNormBias: [Float]? = nil
    /// `[localFFN, hidden]`: column-parallel; nil for the plain two-layer MLP.
    public var gate: WeightMatrix?
    /// `[localFFN, hidden]`: column-parallel.
    public var up: WeightMatrix
    /// `[hidden, localFFN]`: row-parallel.
    public var down: WeightMatrix
    /// `[localFFN]`, `[localFFN]`, `[hidden]`, or nil.
    public var gateBias: [Float]? = nil, upBias: [Float]? = nil, downBias: [Float]? = nil
}

/// The tensors one rank reads from a model file (GGUF or a Hugging Face directory): its layers'
/// slices, plus the embedding (first pipeline stage) and final norm and LM head (last stage),
/// vocabulary-parallel. `StageModules(llama:configuration:plan:)` turns them into layers that
/// share the same storage.
public struct LlamaWeights: Sendable {
    /// `[localVocab, hidden]`, rows `plan.vocabularyRows`; nil off the first stage.
    public var embedding: WeightMatrix?
    /// `[contextLength * hidden]` f32 learned positions (GPT-2); nil with RoPE or off the first stage.
    public var positionEmbedding: [Float]? = nil
    /// Blocks `layers`, in order.
    public var layers: [LlamaLayerWeights]
    /// `[hidden]`; nil off the last stage.
    public var outputNorm: [Float]?
    /// `[hidden]` LayerNorm shift; nil for RMSNorm or off the last stage.
    public var outputNormBias: [Float]? = nil
    /// `[localVocab, hidden]`, rows `plan.vocabularyRows`; nil off the last stage.
    public var output: WeightMatrix?
    /// Bytes of weight data this rank references.
    public var byteCount: Int {
        var total = (embedding?.byteCount ?? 0)
        if let o = output, o.base != embedding?.base { total += o.byteCount }
        for l in layers {
            total += l.query.byteCount + l.key.byteCount + l.value.byteCount + l.attentionOutput.byteCount
            total += (l.gate?.byteCount ?? 0) + l.up.byteCount + l.down.byteCount
        }
        return total
    }

    /// Reads this rank's part of a GGUF model.
    ///
    /// With `copySlices` each sliced tensor is read (with `pread`) into memory this rank owns,
    /// so only its own slices become resident and the mapping's pages are never touched;
    /// without it, whole-tensor views into the memory-mapped file are used (no copy, for one rank).
    /// - Throws: `ModelLoadingError` for missing tensors, wrong shapes or unsupported types;
    ///   `GGUFError` when the file cannot be read.
    public static func load(from file: GGUFFile, configuration c: ModelConfiguration, plan: ShardingPlan,
                            layers: Range<Int>, includeEmbedding: Bool, includeHead: Bool,
                            copySlices: Bool) throws -> LlamaWeights {
        try load(WeightLoader(.gguf(file), naming: .gguf, copySlices: copySlices), configuration: c, plan: plan,
                 layers: layers, includeEmbedding: includeEmbedding, includeHead: includeHead)
    }

    /// Reads this rank's part of a GGUF model into memory it owns, without mapping the
    /// file: peak resident memory is about this rank's slices (no file pages, no metadata
    /// once the parsed `GGUFFile` that made `reader` is gone).
    /// - Throws: `ModelLoadingError` for missing tensors, wrong shapes or unsupported types;
    ///   `GGUFError` when the file cannot be read.
    public static func load(from reader: GGUFTensorReader, configuration c: ModelConfiguration, plan: ShardingPlan,
                            layers: Range<Int>, includeEmbedding: Bool, includeHead: Bool) throws -> LlamaWeights {
        try load(WeightLoader(.ggufReader(reader), naming: .gguf, copySlices: true), configuration: c, plan: plan,
                 layers: layers, includeEmbedding: includeEmbedding, includeHead: includeHead)
    }

    /// Reads this rank's part of an opened model (GGUF or Hugging Face directory), as the
    /// GGUF overloads do: views of the mapping, or with `copySlices` owned copies of the slices.
    public static func load(from files: ModelFiles, plan: ShardingPlan, layers: Range<Int>, includeEmbedding: Bool,
                            includeHead: Bool, copySlices: Bool) throws -> LlamaWeights {
        try load(WeightLoader(files.source, naming: files.naming, copySlices: copySlices),
                 configuration: files.configuration, plan: plan, layers: layers,
                 includeEmbedding: includeEmbedding, includeHead: includeHead)
    }
}
