import TridentKernels

/// One tensor as `QuantizationMix` sees it.
public struct QuantizationInput: Sendable, Equatable {
    public let name: String
    /// ggml `ne` order: `[columns, rows, ...]`.
    public let shape: [Int]
    /// The type stored now.
    public let type: GGMLType

    public init(name: String, shape: [Int], type: GGMLType) {
        self.name = name
        self.shape = shape
        self.type = type
    }
}

/// The type chosen for one tensor, and why.
public struct QuantizationChoice: Sendable, Equatable {
    public let name: String
    /// The type to write.
    public let type: GGMLType
    /// Whether the stored bytes are copied unchanged (not a weight matrix, or already `type`).
    public let keepsBytes: Bool
    /// The role rule that chose the type, e.g. `output`, `attn_v more bits`; nil for the base type.
    public let rule: String?
    /// The type the rules chose before a fallback for a row length it cannot hold.
    public let fallbackFrom: GGMLType?
}

/// Which type each tensor of a model gets under a `QuantizationScheme`, as llama.cpp's
/// `llama-quantize` decides for LLaMA-family models (`llama_tensor_get_type`):
/// - Only tensors named `*weight` with 2 or more dimensions are quantized; norms
///   (`*_norm.weight`), position embeddings and expert gates are copied as stored.
/// - Single-type schemes give every other tensor the base type.
/// - The `_m` mixes: `output.weight` (or `token_embd.weight` when there is no output matrix,
///   i.e. tied embeddings) gets `Q6_K` (`Q8_0` when its rows are not a whole number of base
///   blocks); the `attn_v` of layer `i` of `n` gets `Q6_K` when `useMoreBits(i, n)`, as does
///   `ffn_down`; fused `attn_qkv` gets one step more (`Q5_K` / `Q6_K`).
/// - Rows that are not a whole number of the chosen type's blocks fall back:
///   `Q4_K` -> `Q5_0`, `Q5_K` -> `Q5_1`, `Q6_K` -> `Q8_0`, and to `F16` when even that does not fit.
/// - A tensor already stored in the chosen type is copied unchanged.
/// A tensor's layer is the `N` of its `blk.N.` name (llama.cpp visits tensors in layer
/// order, whatever the file order), else its position among the `attn_v` / `ffn_down` tensors.
public enum QuantizationMix {
    /// llama.cpp's `use_more_bits`: the first and last eighth of the layers, and every third
    /// layer in between.
    public static func useMoreBits(_ layer: Int, of layers: Int) -> Bool {
        layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2
    }

    /// Whether the tensor is a weight matrix that gets quantized (as opposed to copied).
    public static func isQuantizable(_ tensor: QuantizationInput) -> Bool {
        let name = tensor.name
        return name.hasSuffix("weight") && tensor.shape.count >= 2 && !name.contains("_norm.weight")
            && !name.contains("ffn_gate_inp.weight") && name != "position_embd.weight" && name != "token_types.weight"
    }

    /// The choice for every tensor of `tensors` (in file order) of a model with `layerCount` blocks.
    public static func plan(_ tensors: [QuantizationInput], scheme: QuantizationScheme, layerCount: Int) -> [QuantizationChoice] {
        let hasOutput = tensors.contains { $0.name == "output.weight" }
        let valueCount = tensors.filter { $0.name.contains("attn_v.weight") || $0.name.contains("attn_qkv.weight") }.count
        var valueIndex = 0, downIndex = 0
        return tensors.map { tensor in
            guard isQuantizable(tensor) else {
                return QuantizationChoice(name: tensor.name, type: tensor.type, keepsBytes: true, rule: nil, fallbackFrom: nil)
            }
            let base = GGMLType(scheme.baseType)
            var (type, rule): (GGMLType, String?) = (base, nil)
            if scheme.isMix {
                let layer = layerNumber(tensor.name)
                (type, rule) = mixRule(tensor, scheme: scheme, hasOutput: hasOutput,
                                       value: (layer ?? valueIndex, valueCount), down: (layer ?? downIndex, layerCount))
                if tensor.name.contains("attn_v.weight") { valueIndex += 1 }
                if tensor.name.contains("ffn_down") { downIndex += 1 }
            }
            let fitted = fitting(type, columns: tensor.shape[0])
            let fallbackFrom = fitted == type ? nil : type
            return QuantizationChoice(name: tensor.name, type: fitted, keepsBytes: fitted == tensor.type, rule: rule,
                                      fallbackFrom: fallbackFrom)
        }
    }

    /// The role rules of the `_m` mixes (before fallbacks).
    private static func mixRule(_ tensor: QuantizationInput, scheme: QuantizationScheme, hasOutput: Bool,
                                value: (index: Int, count: Int), down: (index: Int, count: Int)) -> (GGMLType, String?) {
        let name = tensor.name, base = GGMLType(scheme.baseType)
        if name == "output.weight" || (!hasOutput && name == "token_embd.weight") {
            let rule = hasOutput ? "output" : "output (tied token_embd)"
            return tensor.shape[0] % base.blockSize != 0 ? (.q8_0, rule) : (.q6_K, rule)
        }
        if name.contains("attn_v.weight") {
            return useMoreBits(value.index, of: value.count) ? (.q6_K, "attn_v more bits") : (base, nil)
        }
        if name.contains("ffn_down") {
            return useMoreBits(down.index, of: down.count) ? (.q6_K, "ffn_down more bits") : (base, nil)
        }
        if name.contains("attn_qkv.weight") {
            return (scheme == .q4_k_m ? .q5_K : .q6_K, "attn_qkv")
        }
        return (base, nil)
    }

    /// The `N` of a `blk.N.` tensor name.
    static func layerNumber(_ name: String) -> Int? {
        guard name.hasPrefix("blk.") else { return nil }
        return Int(name.dropFirst(4).prefix { $0 != "." })
    }

    /// `type`, or its fallback when `columns` is not a whole number of its blocks.
    static func fitting(_ type: GGMLType, columns: Int) -> GGMLType {
        guard columns % type.blockSize != 0 else { return type }
        let fallback: GGMLType
        switch type {
        case .q4_K: fallback = .q5_0
        case .q5_K: fallback = .q5_1
        case .q6_K: fallback = .q8_0
        default: fallback = .f16
        }
        return columns % fallback.blockSize == 0 ? fallback : .f16
    }
}
