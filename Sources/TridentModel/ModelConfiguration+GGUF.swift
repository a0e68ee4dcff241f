import TridentFormats

extension ModelConfiguration {
    /// Reads a Llama-family configuration from GGUF metadata (`<arch>.block_count`,
    /// `<arch>.embedding_length`, ...), where `<arch>` is `general.architecture`.
    /// - Throws: `ModelLoadingError` when the architecture is not Llama-like or a key is missing.
    public init(gguf file: GGUFFile) throws {
        let arch = try file.string("general.architecture")
        guard ModelConfiguration.supportedArchitectures.contains(arch) else {
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
        self.init(
            hiddenSize: hidden,
            intermediateSize: try file.int("\(arch).feed_forward_length"),
            layerCount: try file.int("\(arch).block_count"),
            headCount: heads,
            kvHeadCount: file.metadata["\(arch).attention.head_count_kv"]?.int ?? heads,
            vocabularySize: vocabulary,
            rmsNormEpsilon: Float(file.metadata["\(arch).attention.layer_norm_rms_epsilon"]?.double ?? 1e-5),
            ropeTheta: Float(file.metadata["\(arch).rope.freq_base"]?.double ?? 10_000),
            contextLength: file.metadata["\(arch).context_length"]?.int ?? 2048,
            tiedEmbeddings: file.tensor(named: "output.weight") == nil,
            headDimension: keyLength)
        try validate()
    }

    /// Architectures whose GGUF tensors follow the Llama layout.
    public static let supportedArchitectures: Set<String> = ["llama", "mistral", "granite"]

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
                  && vocabularySize <= 1 << 22 && headCount <= 1024,
                  "sizes beyond any known model")
    }
}

/// Why a model could not be loaded.
public enum ModelLoadingError: Error, CustomStringConvertible, Equatable {
    case unsupportedArchitecture(String)
    case missingTensor(String)
    case wrongShape(tensor: String, expected: [Int], found: [Int])
    case unsupportedTensorType(tensor: String, type: String)
    case inconsistentConfiguration(String)

    public var description: String {
        switch self {
        case .unsupportedArchitecture(let a):
            return "unsupported architecture '\(a)' (supported: llama-family GGUF: \(ModelConfiguration.supportedArchitectures.sorted().joined(separator: ", ")))"
        case .missingTensor(let t): return "model file has no tensor '\(t)'"
        case let .wrongShape(t, e, f): return "tensor '\(t)' has shape \(f), expected \(e)"
        case let .unsupportedTensorType(t, type): return "tensor '\(t)' has type \(type), which Trident cannot compute with (supported: \(ModelSupport.supportedTypeList))"
        case .inconsistentConfiguration(let s): return "inconsistent model configuration: \(s)"
        }
    }
}
