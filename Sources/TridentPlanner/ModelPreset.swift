import TridentModel

/// Named models with their published hyper-parameters.
public enum ModelPreset: String, Sendable, CaseIterable {
    case llama7b = "llama-7b"
    case llama13b = "llama-13b"
    case llama70b = "llama-70b"
    case gpt3_175b = "gpt3-175b"
    case smollm2_135m = "smollm2-135m"

    /// The model description for this preset.
    public var model: PlannerModel {
        switch self {
        case .llama7b:
            return llama(hidden: 4096, intermediate: 11008, layers: 32, heads: 32, kvHeads: 32, context: 4096)
        case .llama13b:
            return llama(hidden: 5120, intermediate: 13824, layers: 40, heads: 40, kvHeads: 40, context: 4096)
        case .llama70b:
            // Llama 2 70B: grouped-query attention with 8 KV heads.
            return llama(hidden: 8192, intermediate: 28672, layers: 80, heads: 64, kvHeads: 8, context: 4096)
        case .gpt3_175b:
            // GPT-3 175B: GELU MLP of width 4 x hidden, tied embeddings. Biases and the
            // learned position embedding (0.03% of the weights) are not modelled.
            let configuration = ModelConfiguration(
                hiddenSize: 12288, intermediateSize: 4 * 12288, layerCount: 96, headCount: 96,
                kvHeadCount: 96, vocabularySize: 50257, contextLength: 2048, tiedEmbeddings: true)
            return PlannerModel(name: rawValue, configuration: configuration, mlp: .gelu)
        case .smollm2_135m:
            let configuration = ModelConfiguration(
                hiddenSize: 576, intermediateSize: 1536, layerCount: 30, headCount: 9, kvHeadCount: 3,
                vocabularySize: 49152, ropeTheta: 100_000, contextLength: 8192, tiedEmbeddings: true)
            return PlannerModel(name: rawValue, configuration: configuration, mlp: .swiGLU)
        }
    }

    private func llama(hidden: Int, intermediate: Int, layers: Int, heads: Int, kvHeads: Int,
                       context: Int) -> PlannerModel {
        let configuration = ModelConfiguration(
            hiddenSize: hidden, intermediateSize: intermediate, layerCount: layers, headCount: heads,
            kvHeadCount: kvHeads, vocabularySize: 32000, contextLength: context)
        return PlannerModel(name: rawValue, configuration: configuration, mlp: .swiGLU)
    }
}
