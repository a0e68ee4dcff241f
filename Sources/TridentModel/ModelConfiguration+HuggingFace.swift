import Foundation
import TridentKernels

extension ModelConfiguration {
    /// Reads a Hugging Face `config.json` by its `model_type`: `llama`, `mistral`, `qwen2`
    /// (`hidden_size`, `num_attention_heads`, ... keys) or `gpt2` (`n_embd`, `n_layer`, ...).
    /// Hugging Face checkpoints store q/k rows for `rotate_half`, so RoPE pairs halves.
    /// A sliding window no shorter than the context is ignored; a shorter one caps the context
    /// length (within the window, windowed and full attention agree).
    /// - Parameter where: the file, for error messages.
    /// - Throws: `ModelLoadingError` naming the key at fault.
    public init(huggingFace data: Data, where file: String = "config.json") throws {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ModelLoadingError.inconsistentConfiguration("\(file) is not a JSON object")
        }
        let keys = HuggingFaceKeys(object: object, file: file)
        let type = try keys.string("model_type")
        guard let architecture = Architecture(rawValue: type), architecture != .granite else {
            throw ModelLoadingError.unsupportedArchitecture(type)
        }
        if architecture == .gpt2 {
            try self.init(gpt2: keys)
        } else {
            try self.init(llamaLike: keys, architecture: architecture)
        }
        try validate()
    }

    private init(llamaLike k: HuggingFaceKeys, architecture: Architecture) throws {
        let heads = try k.int("num_attention_heads")
        self.init(hiddenSize: try k.int("hidden_size"), intermediateSize: try k.int("intermediate_size"),
                  layerCount: try k.int("num_hidden_layers"), headCount: heads,
                  kvHeadCount: try k.optionalInt("num_key_value_heads") ?? heads,
                  vocabularySize: try k.int("vocab_size"),
                  rmsNormEpsilon: Float(try k.optionalDouble("rms_norm_eps") ?? 1e-6),
                  ropeTheta: Float(try k.ropeTheta()),
                  contextLength: try k.optionalInt("max_position_embeddings") ?? 2048,
                  tiedEmbeddings: try k.optionalBool("tie_word_embeddings") ?? false,
                  headDimension: try k.optionalInt("head_dim"))
        apply(architecture)
        ropePairing = .halves
        ropeScaling = try k.ropeScaling(base: ropeTheta, headDimension: headDimension)
        if architecture == .llama {
            attentionBias = try k.optionalBool("attention_bias") ?? false
            mlpBias = try k.optionalBool("mlp_bias") ?? false
        }
        activation = try k.activation("hidden_act", default: .silu)
        let useWindow = try k.optionalBool("use_sliding_window")
        let windowed = architecture == .mistral || useWindow == true
        if windowed, let window = try k.optionalInt("sliding_window"), window > 0 {
            contextLength = min(contextLength, window)
        }
    }

    private init(gpt2 k: HuggingFaceKeys) throws {
        let hidden = try k.int("n_embd"), heads = try k.int("n_head")
        self.init(hiddenSize: hidden, intermediateSize: try k.optionalInt("n_inner") ?? 4 * hidden,
                  layerCount: try k.int("n_layer"), headCount: heads, kvHeadCount: heads,
                  vocabularySize: try k.int("vocab_size"),
                  rmsNormEpsilon: Float(try k.optionalDouble("layer_norm_epsilon") ?? 1e-5),
                  contextLength: try k.optionalInt("n_positions") ?? k.int("n_ctx"),
                  tiedEmbeddings: try k.optionalBool("tie_word_embeddings") ?? true)
        apply(.gpt2)
        activation = try k.activation("activation_function", default: .geluTanh)
    }
}

/// Typed reads of a `config.json` object, with one-line errors naming the key and file.
struct HuggingFaceKeys {
    let object: [String: Any]
    let file: String

    func isNull(_ key: String) -> Bool { object[key] == nil || object[key] is NSNull }

    private func bad(_ key: String, _ expected: String) -> ModelLoadingError {
        .inconsistentConfiguration("\(file): '\(key)' must be \(expected), found \(object[key].map { "\($0)" } ?? "nothing")")
    }

    func string(_ key: String) throws -> String {
        guard let value = object[key] as? String else { throw bad(key, "a string") }
        return value
    }

    func int(_ key: String) throws -> Int {
        guard let value = try optionalInt(key) else { throw bad(key, "an integer") }
        return value
    }

    func optionalInt(_ key: String) throws -> Int? {
        if isNull(key) { return nil }
        // `is Bool` is true for every NSNumber 0 or 1 on Linux; JSON's true/false are the
        // numbers whose type code is "c" (char).
        guard let number = object[key] as? NSNumber, String(cString: number.objCType) != "c",
              let value = Int(exactly: number.doubleValue), value >= 0 else { throw bad(key, "a non-negative integer") }
        return value
    }

    func optionalDouble(_ key: String) throws -> Double? {
        if isNull(key) { return nil }
        guard let number = object[key] as? NSNumber, number.doubleValue.isFinite, number.doubleValue > 0 else {
            throw bad(key, "a positive number")
        }
        return number.doubleValue
    }

    /// `rope_theta`, or `rope_parameters.rope_theta` (transformers 5); scaling is read by
    /// `ropeScaling(base:headDimension:)`.
    func ropeTheta() throws -> Double {
        guard let parameters = object["rope_parameters"] as? [String: Any] else {
            return try optionalDouble("rope_theta") ?? 10_000
        }
        let nested = HuggingFaceKeys(object: parameters, file: "\(file) rope_parameters")
        return try nested.optionalDouble("rope_theta") ?? optionalDouble("rope_theta") ?? 10_000
    }

    func optionalBool(_ key: String) throws -> Bool? {
        if isNull(key) { return nil }
        guard let value = object[key] as? Bool else { throw bad(key, "true or false") }
        return value
    }

    /// `hidden_act` / `activation_function`: `silu`, `gelu` (exact), `gelu_new`,
    /// `gelu_pytorch_tanh` or `gelu_fast` (tanh approximation), `relu`.
    func activation(_ key: String, default fallback: Activation) throws -> Activation {
        if isNull(key) { return fallback }
        switch try string(key) {
        case "silu", "swish": return .silu
        case "gelu": return .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": return .geluTanh
        case "relu": return .relu
        case let other:
            throw ModelLoadingError.unsupportedFeature("\(file): '\(key)' \(other) (supported: silu, gelu, gelu_new, gelu_pytorch_tanh, relu)")
        }
    }
}
