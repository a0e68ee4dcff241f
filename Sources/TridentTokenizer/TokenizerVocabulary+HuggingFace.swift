import Foundation

extension TokenizerVocabulary {
    /// Reads a Hugging Face `tokenizer.json` and, when given, its `tokenizer_config.json`.
    ///
    /// Supported: model `BPE` either byte-level (GPT-2 style; pre-tokenizer `ByteLevel` or a
    /// `Sequence` of `Split` on the GPT-2 / Llama 3 / Qwen 2 regex or `Digits`, then
    /// `ByteLevel`; normalizer none or `NFC`; `ignore_merges`) or SentencePiece-style
    /// (`byte_fallback`, `▁` spaces from a `Prepend`+`Replace` normalizer or a `Metaspace`
    /// pre-tokenizer). `added_tokens` become control tokens (`special: true`) or user-defined
    /// ones. From the config: `bos_token`, `eos_token`, `pad_token`, `unk_token`,
    /// `add_bos_token`, `add_eos_token` and `chat_template`; without `add_bos_token`, BOS is
    /// added when the `TemplateProcessing` post-processor starts with it.
    /// - Throws: ``TokenizerError/invalidJSON(file:reason:)`` for malformed files,
    ///   ``TokenizerError/unsupportedComponent(file:path:found:supported:)`` naming what is not
    ///   implemented (a model type, a regex, a normalizer, ...).
    public init(huggingFaceJSON data: Data, config: Data? = nil) throws(TokenizerError) {
        let json = try HuggingFaceJSON.parse(data, file: "tokenizer.json")
        var cfg = HuggingFaceJSON.null
        if let config { cfg = try HuggingFaceJSON.parse(config, file: "tokenizer_config.json") }
        guard json.members != nil else { throw Self.invalid("expected a JSON object at the top level") }
        guard let model = json["model"], model.members != nil else { throw Self.invalid("missing object 'model'") }
        let type = model.type ?? (model["merges"] != nil ? "BPE" : "?")
        guard type == "BPE" else {
            throw TokenizerError.unsupportedComponent(file: "tokenizer.json", path: "model.type", found: "'\(type)'",
                                                      supported: "BPE")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let v = model[key], !v.isNull, v.string != "" {
                throw TokenizerError.unsupportedComponent(file: "tokenizer.json", path: "model.\(key)", found: v.summary,
                                                          supported: "null")
            }
        }
        var (tokens, types) = try Self.vocabularyTokens(model)
        let strips = try Self.addTokens(json["added_tokens"] ?? .array([]), to: &tokens, types: &types)
        let merges = try Self.merges(model["merges"] ?? .array([]))
        let components = try HuggingFaceComponents(json)
        let sentencePiece = components.family == .sentencePiece
        var index: [String: Int] = [:]
        for (id, text) in tokens.enumerated() where types[id] != .unused { index[text] = id }
        if sentencePiece, model["byte_fallback"]?.bool == true {
            for (id, text) in tokens.enumerated() where types[id] == .normal && SentencePieceTable.byteValue(text) != nil {
                types[id] = .byte
            }
        }
        let unknownId = Self.tokenText(cfg["unk_token"]).flatMap { index[$0] }
            ?? model["unk_token"]?.string.flatMap { index[$0] }
        if let unknownId, types[unknownId] == .normal { types[unknownId] = .unknown }
        let bosId = Self.tokenText(cfg["bos_token"]).flatMap { index[$0] }
        let eosId = Self.tokenText(cfg["eos_token"]).flatMap { index[$0] }
        let template = Self.templateSpecials(json["post_processor"] ?? .null)
        let addBOS = cfg["add_bos_token"]?.bool ?? bosId.map { template.leading.contains(tokens[$0]) } ?? false
        let addEOS = cfg["add_eos_token"]?.bool ?? eosId.map { template.trailing.contains(tokens[$0]) } ?? false
        self.init(model: sentencePiece ? "llama" : "gpt2",
                  preTokenizer: components.preTokenizer, tokens: tokens, tokenTypes: types,
                  merges: merges,
                  bosId: bosId, eosId: eosId, eotId: nil,
                  padId: Self.tokenText(cfg["pad_token"]).flatMap { index[$0] },
                  addBOS: addBOS, addEOS: addEOS, chatTemplate: Self.chatTemplate(cfg["chat_template"]),
                  scores: [], unknownId: unknownId, addSpacePrefix: components.addSpacePrefix,
                  ignoreMerges: model["ignore_merges"]?.bool ?? false,
                  spacePrefixRule: components.spacePrefixRule,
                  normalizeNFC: components.normalizeNFC, stripLeft: strips.left, stripRight: strips.right)
    }

    private static func invalid(_ reason: String, file: String = "tokenizer.json") -> TokenizerError {
        .invalidJSON(file: file, reason: reason)
    }

    /// `model.vocab` as a token list indexed by id; ids never used become `[PADn]` unused tokens.
    private static func vocabularyTokens(_ model: HuggingFaceJSON) throws(TokenizerError) -> ([String], [TokenType]) {
        guard let vocab = model["vocab"]?.members else { throw invalid("'model.vocab' should be an object of token -> id") }
        guard !vocab.isEmpty else { throw TokenizerError.emptyVocabulary }
        var byId: [Int: String] = [:]
        byId.reserveCapacity(vocab.count)
        for (text, value) in vocab.map({ ($0.key, $0.value) }) {
            guard let id = value.int, id >= 0, id < 16_777_216 else {
                throw invalid("'model.vocab[\(text)]' = \(value.summary), expected an id in 0..<2^24")
            }
            byId[id] = text
        }
        return fill(byId)
    }

    /// Tokens in id order; missing ids become `[PADn]` of type unused.
    private static func fill(_ byId: [Int: String]) -> ([String], [TokenType]) {
        let count = (byId.keys.max() ?? -1) + 1
        var tokens = [String](repeating: "", count: count)
        var types = [TokenType](repeating: .normal, count: count)
        for i in 0..<count {
            if let t = byId[i] { tokens[i] = t } else { tokens[i] = "[PAD\(i)]"; types[i] = .unused }
        }
        return (tokens, types)
    }

    /// `added_tokens`: `special` ones become control tokens, the others user-defined; an id past
    /// the vocabulary extends it. Returns the ids with `lstrip` / `rstrip` set.
    private static func addTokens(_ added: HuggingFaceJSON, to tokens: inout [String],
                                  types: inout [TokenType]) throws(TokenizerError) -> (left: Set<Int>, right: Set<Int>) {
        var left = Set<Int>(), right = Set<Int>()
        guard let list = added.array else { throw invalid("'added_tokens' should be an array") }
        for (i, entry) in list.enumerated() {
            guard let id = entry["id"]?.int, id >= 0, id < 16_777_216, let content = entry["content"]?.string, !content.isEmpty else {
                throw invalid("'added_tokens[\(i)]' needs an integer 'id' in 0..<2^24 and a non-empty 'content'")
            }
            while tokens.count <= id { tokens.append("[PAD\(tokens.count)]"); types.append(.unused) }
            tokens[id] = content
            types[id] = entry["special"]?.bool == true ? .control : .userDefined
            if entry["lstrip"]?.bool == true { left.insert(id) }
            if entry["rstrip"]?.bool == true { right.insert(id) }
        }
        return (left, right)
    }

    /// `model.merges`: strings "a b" or pairs ["a", "b"] (tokenizers >= 0.20), as "a b".
    private static func merges(_ value: HuggingFaceJSON) throws(TokenizerError) -> [String] {
        guard let list = value.array else { throw invalid("'model.merges' should be an array") }
        var out: [String] = []
        out.reserveCapacity(list.count)
        for (i, m) in list.enumerated() {
            if let s = m.string {
                out.append(s)
            } else if let pair = m.array, pair.count == 2, let a = pair[0].string, let b = pair[1].string {
                out.append(a + " " + b)
            } else {
                throw invalid("'model.merges[\(i)]' = \(m.summary), expected \"a b\" or [\"a\", \"b\"]")
            }
        }
        return out
    }

    /// A special token in `tokenizer_config.json`: a string or an object with `content`.
    private static func tokenText(_ value: HuggingFaceJSON?) -> String? {
        value?.string ?? value?["content"]?.string
    }

    /// `chat_template`: a string, or a list of `{name, template}` (the `default` one, else the first).
    private static func chatTemplate(_ value: HuggingFaceJSON?) -> String? {
        if let s = value?.string { return s }
        guard let list = value?.array else { return nil }
        let named = list.first { $0["name"]?.string == "default" } ?? list.first
        return named?["template"]?.string
    }

    /// Special tokens a `TemplateProcessing` post-processor puts before and after a single text.
    private static func templateSpecials(_ post: HuggingFaceJSON) -> (leading: Set<String>, trailing: Set<String>) {
        let processors = post.type == "Sequence" ? (post["processors"]?.array ?? []) : [post]
        guard let template = processors.first(where: { $0.type == "TemplateProcessing" }),
              let single = template["single"]?.array else { return ([], []) }
        func special(_ item: HuggingFaceJSON?) -> String? { item?["SpecialToken"]?["id"]?.string }
        return (Set([special(single.first)].compactMap { $0 }), Set([special(single.last)].compactMap { $0 }))
    }
}
