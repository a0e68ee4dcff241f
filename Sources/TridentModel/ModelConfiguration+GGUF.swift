import TridentFormats

extension ModelConfiguration {
    /// Reads a configuration from GGUF metadata (`<arch>.block_count`, `<arch>.embedding_length`,
    /// ...), where `<arch>` is `general.architecture`: the Llama family (`llama`, `mistral`,
    /// `granite`), `qwen2` (q/k/v biases, RoPE on halves) or `gpt2` (LayerNorm, tanh-GELU
    /// two-layer MLP, biases everywhere, learned positions). RoPE scaling (`rope_freqs.weight`,
    /// `rope.scaling.type` none/linear) and llama-family biases are read when present.
    /// - Throws: `ModelLoadingError` when the architecture is not supported or a key is missing.
    public init(gguf file: GGUFFile) throws {
        let arch = try file.string("general.architecture")
        guard let architecture = Architecture(rawValue: arch) else {
            throw ModelLoadingError.unsupportedArchitecture(arch)
        }
        let hidden = try file.int("\(arch).embedding_length")
        let heads = try file.int("\(arch).attention.head_count")
        let vocabulary: Int
        if let n = file.metadata["\(arch).vocab_size"]?.int {
            vocabulary = n
        } else if let tokens = file.metadata["tokenizer.ggml.tokens"]?.array {
            vocabulary = tokens.count
        } else {
            vocabulary = try file.tensor(named: "token_embd.weight").map { $0.shape.last ?? 0 }
                ?? { throw ModelLoadingError.missingTensor("token_embd.weight") }()
        }
        let keyLength = file.metadata["\(arch).attention.key_length"]?.int
        let epsilon = file.metadata["\(arch).attention.layer_norm_rms_epsilon"]?.double
            ?? file.metadata["\(arch).attention.layer_norm_epsilon"]?.double ?? 1e-5
        self.init(
            hiddenSize: hidden,
            intermediateSize: try file.int("\(arch).feed_forward_length"),
            layerCount: try file.int("\(arch).block_count"),
            headCount: heads,
            kvHeadCount: file.metadata["\(arch).attention.head_count_kv"]?.int ?? heads,
            vocabularySize: vocabulary,
            rmsNormEpsilon: Float(epsilon),
            ropeTheta: Float(file.metadata["\(arch).rope.freq_base"]?.double ?? 10_000),
            contextLength: file.metadata["\(arch).context_length"]?.int ?? 2048,
            tiedEmbeddings: file.tensor(named: "output.weight") == nil,
            headDimension: keyLength)
        apply(architecture)
        if let rotated = file.metadata["\(arch).rope.dimension_count"]?.int, positionEncoding == .rope,
           rotated != headDimension {
            throw ModelLoadingError.unsupportedFeature("\(arch).rope.dimension_count \(rotated): partial RoPE (head dimension \(headDimension)) is not supported")
        }
        ropeScaling = try Self.ropeScaling(gguf: file, architecture: arch, headDimension: headDimension,
                                           positionEncoding: positionEncoding)
        try detectOptionalBiases(gguf: file, architecture: architecture)
        try validate()
    }

    /// Architectures Trident runs, by their GGUF `general.architecture` spelling.
    public static let supportedArchitectures: Set<String> = Set(Architecture.allCases.map(\.rawValue))

    /// Sets the architecture's block choices; sizes stay as read. GGUF `llama` q/k rows are
    /// permuted by llama.cpp's converter for adjacent-pair RoPE; `qwen2` rows are not.
    mutating func apply(_ architecture: Architecture) {
        switch architecture {
        case .llama, .mistral, .granite:
            break
        case .qwen2:
            attentionBias = true
            qkvBiasOnly = true
            ropePairing = .halves
        case .gpt2:
            normalization = .layer
            activation = .geluTanh
            gatedMLP = false
            attentionBias = true
            mlpBias = true
            positionEncoding = .learned
            kvHeadCount = headCount
        }
    }

    /// Checks the numbers are consistent before anything is allocated from them.
    public func validate() throws {
        func check(_ ok: Bool, _ what: String) throws {
            if !ok { throw ModelLoadingError.inconsistentConfiguration(what) }
        }
        try check(hiddenSize > 0 && intermediateSize > 0 && layerCount > 0 && vocabularySize > 0,
                  "sizes must be positive (hidden \(hiddenSize), ffn \(intermediateSize), layers \(layerCount), vocab \(vocabularySize))")
        try check(headCount > 0 && kvHeadCount > 0 && headCount % kvHeadCount == 0,
                  "\(headCount) query heads is not a multiple of \(kvHeadCount) KV heads")
        try check(headDimension > 0 && headDimension % 2 == 0, "head dimension \(headDimension) must be even")
        try check(hiddenSize <= 1 << 16 && intermediateSize <= 1 << 18 && layerCount <= 1024
                  && vocabularySize <= 1 << 22 && headCount <= 1024 && contextLength <= 1 << 24,
                  "sizes beyond any known model")
        try check(contextLength > 0, "context length \(contextLength) must be positive")
        if let problem = ropeScaling.problem(headDim: headDimension) { try check(false, problem) }
        try check(ropeScaling.isNone || positionEncoding == .rope, "RoPE scaling with learned positions")
    }
}

/// The model architectures Trident runs, by their GGUF `general.architecture` (and Hugging Face
/// `model_type`) spelling.
public enum Architecture: String, Sendable, CaseIterable {
    case llama, mistral, granite, qwen2, gpt2
}
