import TridentKernels

/// The hyper-parameters of a decoder-only transformer: Llama's by default, with the
/// architecture choices the layers support (normalisation, activation, gated MLP, biases,
/// position encoding).
///
/// `CodingKeys` use the Hugging Face `config.json` spellings, so a configuration can be
/// decoded from a safetensors checkpoint's `config.json`; GGUF metadata is mapped in
/// `ModelConfiguration+GGUF.swift`. File-format spellings appear nowhere else.
public struct ModelConfiguration: Codable, Sendable, Equatable {
    /// Width of the residual stream (`dim`).
    public var hiddenSize: Int
    /// Width of the SwiGLU MLP's inner layer.
    public var intermediateSize: Int
    /// Number of transformer blocks.
    public var layerCount: Int
    /// Number of query heads.
    public var headCount: Int
    /// Number of key/value heads (grouped-query attention); equals `headCount` for MHA.
    public var kvHeadCount: Int
    /// Size of the vocabulary (rows of the embedding and of the LM head).
    public var vocabularySize: Int
    /// Epsilon inside the normalisation (RMSNorm or LayerNorm).
    public var rmsNormEpsilon: Float
    /// RoPE frequency base.
    public var ropeTheta: Float
    /// Longest context the model was trained for.
    public var contextLength: Int
    /// Whether the LM head reuses the token embedding matrix.
    public var tiedEmbeddings: Bool
    /// Per-head width; `hiddenSize / headCount` unless the model says otherwise.
    public var headDimension: Int
    /// RMSNorm (Llama, default) or LayerNorm with bias.
    public var normalization: NormalizationKind = .rms
    /// The MLP's non-linearity (SiLU by default).
    public var activation: Activation = .silu
    /// Gated MLP `down(act(gate x) * up x)` (default) or the plain `down(act(up x))`.
    public var gatedMLP = true
    /// Whether the q, k, v and attention-output projections have biases.
    public var attentionBias = false
    /// Whether the MLP's projections have biases.
    public var mlpBias = false
    /// RoPE (default) or learned absolute positions.
    public var positionEncoding: PositionEncoding = .rope
    /// Which elements RoPE rotates together: adjacent (GGUF llama, default) or halves
    /// (Hugging Face checkpoints, GGUF qwen2). A property of how q/k rows are stored.
    public var ropePairing: RopePairing = .adjacent
    /// With `attentionBias`: only q, k and v have biases, not the output projection (Qwen2).
    public var qkvBiasOnly = false
    /// RoPE frequency scaling: Llama 3.1+ per-pair divisors (GGUF `rope_freqs.weight`) and
    /// linear position scaling; none by default.
    public var ropeScaling = RopeScaling.none

    /// Whether the attention output projection has a bias.
    public var attentionOutputBias: Bool { attentionBias && !qkvBiasOnly }

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case layerCount = "num_hidden_layers"
        case headCount = "num_attention_heads"
        case kvHeadCount = "num_key_value_heads"
        case vocabularySize = "vocab_size"
        case rmsNormEpsilon = "rms_norm_eps"
        case ropeTheta = "rope_theta"
        case contextLength = "max_position_embeddings"
        case tiedEmbeddings = "tie_word_embeddings"
        case headDimension = "head_dim"
        case normalization = "normalization"
        case activation = "hidden_act"
        case gatedMLP = "gated_mlp"
        case attentionBias = "attention_bias"
        case mlpBias = "mlp_bias"
        case positionEncoding = "position_embedding_type"
        case ropePairing = "rope_pairing"
        case qkvBiasOnly = "qkv_bias_only"
        case ropeScaling = "rope_frequency_scaling"
    }

    public init(hiddenSize: Int, intermediateSize: Int, layerCount: Int, headCount: Int,
                kvHeadCount: Int, vocabularySize: Int, rmsNormEpsilon: Float = 1e-5,
                ropeTheta: Float = 10_000, contextLength: Int = 2048,
                tiedEmbeddings: Bool = false, headDimension: Int? = nil) {
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.vocabularySize = vocabularySize
        self.rmsNormEpsilon = rmsNormEpsilon
        self.ropeTheta = ropeTheta
        self.contextLength = contextLength
        self.tiedEmbeddings = tiedEmbeddings
        self.headDimension = headDimension ?? hiddenSize / headCount
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let hidden = try c.decode(Int.self, forKey: .hiddenSize)
        let heads = try c.decode(Int.self, forKey: .headCount)
        self.init(
            hiddenSize: hidden,
            intermediateSize: try c.decode(Int.self, forKey: .intermediateSize),
            layerCount: try c.decode(Int.self, forKey: .layerCount),
            headCount: heads,
            kvHeadCount: try c.decodeIfPresent(Int.self, forKey: .kvHeadCount) ?? heads,
            vocabularySize: try c.decode(Int.self, forKey: .vocabularySize),
            rmsNormEpsilon: try c.decodeIfPresent(Float.self, forKey: .rmsNormEpsilon) ?? 1e-5,
            ropeTheta: try c.decodeIfPresent(Float.self, forKey: .ropeTheta) ?? 10_000,
            contextLength: try c.decodeIfPresent(Int.self, forKey: .contextLength) ?? 2048,
            tiedEmbeddings: try c.decodeIfPresent(Bool.self, forKey: .tiedEmbeddings) ?? false,
            headDimension: try c.decodeIfPresent(Int.self, forKey: .headDimension))
        normalization = try c.decodeIfPresent(NormalizationKind.self, forKey: .normalization) ?? .rms
        activation = try c.decodeIfPresent(Activation.self, forKey: .activation) ?? .silu
        gatedMLP = try c.decodeIfPresent(Bool.self, forKey: .gatedMLP) ?? true
        attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? false
        mlpBias = try c.decodeIfPresent(Bool.self, forKey: .mlpBias) ?? false
        positionEncoding = try c.decodeIfPresent(PositionEncoding.self, forKey: .positionEncoding) ?? .rope
        ropePairing = try c.decodeIfPresent(RopePairing.self, forKey: .ropePairing) ?? .adjacent
        qkvBiasOnly = try c.decodeIfPresent(Bool.self, forKey: .qkvBiasOnly) ?? false
        ropeScaling = try c.decodeIfPresent(RopeScaling.self, forKey: .ropeScaling) ?? .none
    }

    /// Query heads sharing one key/value head.
    public var groupSize: Int { headCount / kvHeadCount }
    /// Width of the concatenated key (or value) projection output.
    public var kvDimension: Int { kvHeadCount * headDimension }
    /// Width of the concatenated query projection output.
    public var queryDimension: Int { headCount * headDimension }

    /// Parameter count of the whole model (embedding and LM head counted once if tied).
    public var parameterCount: Int {
        var attention = hiddenSize * queryDimension + 2 * hiddenSize * kvDimension + queryDimension * hiddenSize
        if attentionBias { attention += queryDimension + 2 * kvDimension + (qkvBiasOnly ? 0 : hiddenSize) }
        let projections = gatedMLP ? 3 : 2
        var mlp = projections * hiddenSize * intermediateSize
        if mlpBias { mlp += (projections - 1) * intermediateSize + hiddenSize }
        let norm = normalization == .layer ? 2 * hiddenSize : hiddenSize
        let perLayer = attention + mlp + 2 * norm
        let embedding = vocabularySize * hiddenSize
        let positions = positionEncoding == .learned ? contextLength * hiddenSize : 0
        return layerCount * perLayer + embedding + (tiedEmbeddings ? 0 : embedding) + norm + positions
    }
}
