import TridentFormats

/// GGUF metadata key spellings; they appear nowhere else in this module.
enum GGUFTokenizerKey {
    static let model = "tokenizer.ggml.model"
    static let pre = "tokenizer.ggml.pre"
    static let tokens = "tokenizer.ggml.tokens"
    static let tokenType = "tokenizer.ggml.token_type"
    static let merges = "tokenizer.ggml.merges"
    static let bos = "tokenizer.ggml.bos_token_id"
    static let eos = "tokenizer.ggml.eos_token_id"
    static let eot = "tokenizer.ggml.eot_token_id"
    static let pad = "tokenizer.ggml.padding_token_id"
    static let addBOS = "tokenizer.ggml.add_bos_token"
    static let addEOS = "tokenizer.ggml.add_eos_token"
    static let chatTemplate = "tokenizer.chat_template"
    static let scores = "tokenizer.ggml.scores"
    static let unknown = "tokenizer.ggml.unknown_token_id"
    static let addSpacePrefix = "tokenizer.ggml.add_space_prefix"
}

extension TokenizerVocabulary {
    /// Reads a vocabulary from GGUF key/value metadata (as `GGUFFile.metadata` returns it).
    ///
    /// Required: `tokenizer.ggml.model`, `tokenizer.ggml.tokens`. Optional: `.pre` (default
    /// `default`), `.token_type` (default all normal), `.merges`, `.bos/.eos/.eot/.padding_token_id`,
    /// `.add_bos_token` (default false, true for the llama3 pre-tokenizer and for SentencePiece
    /// `llama` vocabularies, as in llama.cpp), `.add_eos_token` (default false),
    /// `tokenizer.chat_template`, `.scores` (SentencePiece), `.unknown_token_id`,
    /// `.add_space_prefix` (default true for `llama`, false otherwise).
    /// - Throws: ``TokenizerError`` naming the offending key when a value is missing, has the
    ///   wrong type, disagrees in length with the token list, or is out of range.
    public init(metadata: [String: GGUFValue]) throws(TokenizerError) {
        typealias K = GGUFTokenizerKey
        let model = try Self.requiredString(metadata, K.model)
        guard let tokenValue = metadata[K.tokens] else { throw TokenizerError.missingMetadata(key: K.tokens) }
        guard let tokens = tokenValue.stringArray else {
            throw TokenizerError.wrongMetadataType(key: K.tokens, expected: "an array of strings",
                                                   found: Self.kind(of: tokenValue))
        }
        guard !tokens.isEmpty else { throw TokenizerError.emptyVocabulary }
        let pre = try Self.optionalString(metadata, K.pre) ?? "default"
        var types = Array(repeating: TokenType.normal, count: tokens.count)
        if let value = metadata[K.tokenType] {
            guard let array = value.array else {
                throw TokenizerError.wrongMetadataType(key: K.tokenType, expected: "an array of integers",
                                                       found: Self.kind(of: value))
            }
            guard array.count == tokens.count else {
                throw TokenizerError.lengthMismatch(key: K.tokenType, expected: tokens.count, found: array.count)
            }
            for (i, element) in array.enumerated() {
                guard let raw = element.int else {
                    throw TokenizerError.wrongMetadataType(key: "\(K.tokenType)[\(i)]", expected: "an integer",
                                                           found: Self.kind(of: element))
                }
                guard let type = Int32(exactly: raw).flatMap(TokenType.init(rawValue:)) else {
                    throw TokenizerError.invalidTokenType(index: i, value: raw)
                }
                types[i] = type
            }
        }
        var merges: [String] = []
        if let value = metadata[K.merges] {
            guard let array = value.stringArray else {
                throw TokenizerError.wrongMetadataType(key: K.merges, expected: "an array of strings",
                                                       found: Self.kind(of: value))
            }
            merges = array
        }
        let kind = PreTokenizer(name: pre)
        let sentencePiece = model == "llama"
        self.init(model: model, preTokenizer: pre, tokens: tokens, tokenTypes: types, merges: merges,
                  bosId: try Self.optionalId(metadata, K.bos, count: tokens.count),
                  eosId: try Self.optionalId(metadata, K.eos, count: tokens.count),
                  eotId: try Self.optionalId(metadata, K.eot, count: tokens.count),
                  padId: try Self.optionalId(metadata, K.pad, count: tokens.count),
                  addBOS: try Self.optionalBool(metadata, K.addBOS) ?? (sentencePiece || (kind?.addsBOSByDefault ?? false)),
                  addEOS: try Self.optionalBool(metadata, K.addEOS) ?? false,
                  chatTemplate: try Self.optionalString(metadata, K.chatTemplate),
                  scores: try Self.optionalScores(metadata, count: tokens.count),
                  unknownId: try Self.optionalId(metadata, K.unknown, count: tokens.count),
                  addSpacePrefix: try Self.optionalBool(metadata, K.addSpacePrefix) ?? sentencePiece,
                  stripRight: Self.phi3StripRight(metadata, tokens: tokens, types: types))
    }

    /// llama.cpp's rule for Phi-3 (by `general.name`): its special tokens and `</s>` swallow
    /// the whitespace after them, except `<unk>`, `<s>` and `<|endoftext|>`.
    private static func phi3StripRight(_ md: [String: GGUFValue], tokens: [String], types: [TokenType]) -> Set<Int> {
        let name = md["general.name"]?.string?.lowercased() ?? ""
        guard name.contains("phi-3") || name.contains("phi3") else { return [] }
        var ids = Set<Int>()
        for (id, text) in tokens.enumerated() {
            let special = [.control, .userDefined, .unknown].contains(types[id]) && !text.isEmpty
            if (special || text == "</s>") && !["<unk>", "<s>", "<|endoftext|>"].contains(text) { ids.insert(id) }
        }
        return ids
    }

    /// `tokenizer.ggml.scores`: one float per token, or empty when absent.
    private static func optionalScores(_ md: [String: GGUFValue], count: Int) throws(TokenizerError) -> [Float] {
        typealias K = GGUFTokenizerKey
        guard let value = md[K.scores] else { return [] }
        guard let array = value.array else {
            throw TokenizerError.wrongMetadataType(key: K.scores, expected: "an array of floats", found: kind(of: value))
        }
        guard array.count == count else {
            throw TokenizerError.lengthMismatch(key: K.scores, expected: count, found: array.count)
        }
        var scores = [Float](repeating: 0, count: count)
        for (i, element) in array.enumerated() {
            guard let v = element.double else {
                throw TokenizerError.wrongMetadataType(key: "\(K.scores)[\(i)]", expected: "a float",
                                                       found: kind(of: element))
            }
            scores[i] = Float(v)
        }
        return scores
    }

    private static func requiredString(_ md: [String: GGUFValue], _ key: String) throws(TokenizerError) -> String {
        guard let s = try optionalString(md, key) else { throw TokenizerError.missingMetadata(key: key) }
        return s
    }

    private static func optionalString(_ md: [String: GGUFValue], _ key: String) throws(TokenizerError) -> String? {
        guard let value = md[key] else { return nil }
        guard let s = value.string else {
            throw TokenizerError.wrongMetadataType(key: key, expected: "a string", found: kind(of: value))
        }
        return s
    }

    private static func optionalBool(_ md: [String: GGUFValue], _ key: String) throws(TokenizerError) -> Bool? {
        guard let value = md[key] else { return nil }
        if let b = value.bool { return b }
        if let i = value.int { return i != 0 }
        throw TokenizerError.wrongMetadataType(key: key, expected: "a bool", found: kind(of: value))
    }

    private static func optionalId(_ md: [String: GGUFValue], _ key: String, count: Int) throws(TokenizerError) -> Int? {
        guard let value = md[key] else { return nil }
        guard let id = value.int else {
            throw TokenizerError.wrongMetadataType(key: key, expected: "an integer", found: kind(of: value))
        }
        guard id >= 0, id < count else {
            throw TokenizerError.tokenIdOutOfRange(key: key, id: id, vocabularySize: count)
        }
        return id
    }

    /// A short description of a value's kind for error messages.
    static func kind(of value: GGUFValue) -> String {
        switch value {
        case .string: return "a string"
        case .bool: return "a bool"
        case .array(let a): return "an array of \(a.count) values"
        case .float32, .float64: return "a float"
        default: return "an integer"
        }
    }
}
