import TridentModel

/// The kind of feed-forward block, which sets how many weight matrices an MLP has.
public enum MLPKind: String, Sendable, Codable {
    /// Llama's gated MLP: gate and up `[intermediate, hidden]`, down `[hidden, intermediate]`.
    case swiGLU
    /// GPT's MLP: up `[intermediate, hidden]`, GELU, down `[hidden, intermediate]`.
    case gelu

    /// Number of `hidden x intermediate` weight matrices.
    public var matrixCount: Int {
        switch self {
        case .swiGLU: return 3
        case .gelu: return 2
        }
    }
}

/// A model as the planner sees it: the transformer hyper-parameters plus the MLP kind,
/// which `ModelConfiguration` (Llama-only) does not carry.
public struct PlannerModel: Sendable, Equatable {
    /// Display name, e.g. `llama-70b` or a file name.
    public var name: String
    /// Transformer hyper-parameters.
    public var configuration: ModelConfiguration
    /// Feed-forward kind.
    public var mlp: MLPKind
    /// Storage of the transformer blocks' matrices in the model file, when read from one
    /// (the default `--weight-dtype`); nil for presets.
    public var fileWeightFormat: NumericFormat?
    /// Storage of the embedding / LM head when it differs from the blocks' matrices (GGUF
    /// files often keep `token_embd` at q8_0 or f16 while the blocks are q4_1); nil: the
    /// workload's weight format.
    public var vocabularyFormat: NumericFormat?

    public init(name: String, configuration: ModelConfiguration, mlp: MLPKind = .swiGLU,
                fileWeightFormat: NumericFormat? = nil, vocabularyFormat: NumericFormat? = nil) {
        self.name = name
        self.configuration = configuration
        self.mlp = mlp
        self.fileWeightFormat = fileWeightFormat
        self.vocabularyFormat = vocabularyFormat
    }

    /// Weights of one transformer block (attention, MLP, two norms), as an element count.
    public var parametersPerLayer: Int {
        let c = configuration
        let attention = 2 * c.hiddenSize * c.queryDimension + 2 * c.hiddenSize * c.kvDimension
        return attention + mlp.matrixCount * c.hiddenSize * c.intermediateSize + 2 * c.hiddenSize
    }

    /// Elements of the token embedding `[vocabulary, hidden]` (the LM head has as many).
    public var embeddingParameters: Int { configuration.vocabularySize * configuration.hiddenSize }

    /// Parameter count of the whole model (embedding and LM head counted once if tied).
    public var parameterCount: Int {
        let c = configuration
        let head = c.tiedEmbeddings ? 0 : embeddingParameters
        return c.layerCount * parametersPerLayer + embeddingParameters + head + c.hiddenSize
    }

    /// Matrix-multiply FLOPs for one token through one block, excluding attention scores:
    /// 2 FLOPs (multiply + add) per weight.
    public var matmulFLOPsPerTokenPerLayer: Double {
        Double(2 * (parametersPerLayer - 2 * configuration.hiddenSize))
    }

    /// Attention-score FLOPs for one query token that attends to `context` positions:
    /// `Q K^T` and `softmax(.) V`, 2 FLOPs per multiply-add each.
    public func attentionFLOPsPerToken(context: Double) -> Double {
        4 * Double(configuration.queryDimension) * context
    }
}
