import TridentFormats
import TridentKernels

/// Which Hugging Face tensors a Llama / Mistral / Qwen2 directory must hold for its
/// `config.json`, their GGUF names and expected shapes, and how each is read for GGUF.
struct HuggingFaceTensorPlan {
    struct Entry {
        let hfName: String
        let ggufName: String
        /// PyTorch order: `[out, in]` for a matrix, `[n]` for a vector.
        let shape: [Int]
        /// Heads whose rows `QKRowPermutation` reorders (q: all heads, k: KV heads); nil: none.
        let permuteHeads: Int?
    }

    let entries: [Entry]
    /// Names in the directory that are skipped on purpose (a tied lm_head, RoPE buffers).
    private let skipped: (String) -> Bool

    init(config c: ModelConfiguration) {
        let h = c.hiddenSize, q = c.headCount * c.headDimension, kv = c.kvHeadCount * c.headDimension
        let f = c.intermediateSize
        var list: [(ModelTensor, [Int], Int?)] = [(.tokenEmbedding, [c.vocabularySize, h], nil)]
        for i in 0..<c.layerCount {
            var layer: [(LayerTensor, [Int], Int?)] = [
                (.attentionNorm, [h], nil), (.query, [q, h], c.headCount), (.key, [kv, h], c.kvHeadCount),
                (.value, [kv, h], nil), (.attentionOutput, [h, q], nil), (.mlpNorm, [h], nil),
                (.gate, [f, h], nil), (.up, [f, h], nil), (.down, [h, f], nil)]
            if c.attentionBias {
                layer += [(.queryBias, [q], c.headCount), (.keyBias, [kv], c.kvHeadCount), (.valueBias, [kv], nil)]
            }
            if c.attentionOutputBias { layer.append((.attentionOutputBias, [h], nil)) }
            if c.mlpBias { layer += [(.gateBias, [f], nil), (.upBias, [f], nil), (.downBias, [h], nil)] }
            list += layer.map { (.layer(i, $0.0), $0.1, $0.2) }
        }
        list.append((.outputNorm, [h], nil))
        if !c.tiedEmbeddings { list.append((.output, [c.vocabularySize, h], nil)) }
        entries = list.map { tensor, shape, heads in
            Entry(hfName: TensorNaming.huggingFaceLlama.name(tensor), ggufName: TensorNaming.gguf.name(tensor),
                  shape: shape, permuteHeads: heads)
        }
        let tied = c.tiedEmbeddings
        skipped = { name in name.hasSuffix("rotary_emb.inv_freq") || (tied && name == "lm_head.weight") }
    }

    /// - Throws: `HuggingFaceConversionError.unmappedTensor` for the first tensor of the
    ///   directory that is neither planned nor skipped on purpose.
    func checkNoStrayTensors(in directory: HuggingFaceDirectory) throws {
        let planned = Set(entries.map(\.hfName))
        if let stray = directory.tensors.map(\.name).sorted().first(where: { !planned.contains($0) && !skipped($0) }) {
            throw HuggingFaceConversionError.unmappedTensor(name: stray)
        }
    }

    /// The entry's GGUF bytes: matrices in their stored type, vectors widened to F32, q / k
    /// rows permuted when `permute` (Llama layout).
    func read(_ entry: Entry, from directory: HuggingFaceDirectory,
              permute: Bool) throws -> (shape: [Int], type: GGMLType, bytes: [UInt8]) {
        guard let (file, info) = directory.tensor(named: entry.hfName) else {
            throw HuggingFaceConversionError.missingTensor(name: entry.hfName, directory: directory.path)
        }
        guard info.shape == entry.shape else {
            throw HuggingFaceConversionError.wrongShape(name: entry.hfName, expected: entry.shape, found: info.shape)
        }
        guard let dtype = info.dtype.dtype else {
            throw HuggingFaceConversionError.unsupportedType(name: entry.hfName, type: info.dtype.rawValue)
        }
        let stored = GGMLType(dtype), raw = file.bytes(of: info)
        var bytes: [UInt8]
        if permute, let heads = entry.permuteHeads {
            bytes = QKRowPermutation.apply(raw, rows: entry.shape[0], heads: heads)
        } else {
            bytes = Array(raw)
        }
        guard entry.shape.count == 1, dtype != .f32 else { return (entry.shape, stored, bytes) }
        var floats = [Float](repeating: 0, count: info.elementCount)
        bytes.withUnsafeBytes { source in
            floats.withUnsafeMutableBufferPointer {
                Dequantizer.dequantize(source.baseAddress!, count: info.elementCount, dtype: dtype, into: $0.baseAddress!)
            }
        }
        bytes = floats.withUnsafeBytes { Array($0) }
        return (entry.shape, .f32, bytes)
    }
}
