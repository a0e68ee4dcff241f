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

/// The tensors one rank holds: its layers' slices, plus the embedding (first pipeline
/// stage) and final norm and LM head (last stage), vocabulary-parallel.
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
    /// With `copySlices` each sliced tensor is copied into memory this rank owns, so only its
    /// own slices stay resident (the file mapping's pages can then be released); without it,
    /// whole-tensor views into the memory-mapped file are used (no copy, for one rank).
    /// - Throws: `ModelLoadingError` for missing tensors, wrong shapes or unsupported types.
    public static func load(from file: GGUFFile, configuration c: ModelConfiguration, plan: ShardingPlan,
                            layers: Range<Int>, includeEmbedding: Bool, includeHead: Bool,
                            copySlices: Bool) throws -> LlamaWeights {
        let loader = WeightLoader(file: file, copySlices: copySlices)
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

/// Reads named tensors from a GGUF file, checking shape and type, optionally copying slices.
struct WeightLoader {
    let file: GGUFFile
    let copySlices: Bool

    func vector(_ name: String, count: Int) throws -> [Float] {
        guard let info = file.tensor(named: name) else { throw ModelLoadingError.missingTensor(name) }
        guard info.elementCount == count else {
            throw ModelLoadingError.wrongShape(tensor: name, expected: [count], found: info.shape)
        }
        return try file.floats(named: name)
    }

    /// The `[rows, columns]` slice of the row-major matrix `name`, whose full shape must be
    /// `shape` (GGUF `ne = [columns, rows]`).
    func matrix(_ name: String, shape: (rows: Int, columns: Int),
                rows: Range<Int>? = nil, columns: Range<Int>? = nil) throws -> WeightMatrix {
        guard let info = file.tensor(named: name) else { throw ModelLoadingError.missingTensor(name) }
        guard info.shape == [shape.columns, shape.rows] else {
            throw ModelLoadingError.wrongShape(tensor: name, expected: [shape.columns, shape.rows], found: info.shape)
        }
        guard info.type.dtype != nil else {
            throw ModelLoadingError.unsupportedTensorType(tensor: name, type: "\(info.type)")
        }
        var m = try file.matrix(named: name)
        let rowRange = rows ?? 0 ..< m.rows
        let columnRange = columns ?? 0 ..< m.columns
        if columnRange.lowerBound % m.dtype.blockSize != 0 || columnRange.upperBound % m.dtype.blockSize != 0 {
            throw ModelLoadingError.inconsistentConfiguration(
                "cannot split tensor '\(name)' (\(m.dtype)) at columns \(columnRange): not on \(m.dtype.blockSize)-element block boundaries")
        }
        m = m.rows(rowRange).columns(columnRange)
        let sliced = rowRange.count != shape.rows || columnRange.count != shape.columns
        guard copySlices && sliced else { return m }
        let copy = WeightLoader.ownedCopy(of: m)
        file.releaseResidentPages(of: info)  // keep only this rank's slice resident
        return copy
    }

    /// A contiguous copy of `m` in memory owned by the result.
    static func ownedCopy(of m: WeightMatrix) -> WeightMatrix {
        let rowBytes = m.dtype.rowBytes(m.columns)
        var bytes = [UInt8](repeating: 0, count: m.rows * rowBytes)
        bytes.withUnsafeMutableBytes { dst in
            for r in 0..<m.rows {
                (dst.baseAddress! + r * rowBytes).copyMemory(from: m.rowPointer(r), byteCount: rowBytes)
            }
        }
        return OwnedWeights(bytes: bytes, rows: m.rows, columns: m.columns, dtype: m.dtype).matrix
    }
}
