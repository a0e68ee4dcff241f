/// Everything a tokenizer needs, as plain values (independent of the file it came from).
///
/// Build one from GGUF metadata with ``init(metadata:)`` or directly in tests. Token ids are
/// indices into ``tokens``.
public struct TokenizerVocabulary: Sendable, Equatable {
    /// Tokenizer family (`tokenizer.ggml.model`); only `gpt2` (byte-level BPE) is implemented.
    public var model: String
    /// Pre-tokenizer name (`tokenizer.ggml.pre`), e.g. `smollm`, `gpt-2`, `llama-bpe`, `qwen2`.
    public var preTokenizer: String
    /// Token texts in byte-level BPE spelling (`Ġ` for a space byte, ...), one per id.
    public var tokens: [String]
    /// One type per token.
    public var tokenTypes: [TokenType]
    /// BPE merges in priority order, each "left right" (split at the first space after position 0).
    public var merges: [String]
    /// Beginning-of-sequence token, prepended when ``addBOS`` is true.
    public var bosId: Int?
    /// End-of-sequence token, appended when ``addEOS`` is true; always ends generation.
    public var eosId: Int?
    /// End-of-turn token; always ends generation.
    public var eotId: Int?
    /// Padding token.
    public var padId: Int?
    /// Whether `encode(addSpecial: true)` prepends BOS.
    public var addBOS: Bool
    /// Whether `encode(addSpecial: true)` appends EOS.
    public var addEOS: Bool
    /// Jinja chat template text (`tokenizer.chat_template`), if the model ships one.
    public var chatTemplate: String?

    /// Creates a vocabulary from explicit values. Token types default to `.normal`.
    public init(model: String = "gpt2", preTokenizer: String, tokens: [String],
                tokenTypes: [TokenType]? = nil, merges: [String],
                bosId: Int? = nil, eosId: Int? = nil, eotId: Int? = nil, padId: Int? = nil,
                addBOS: Bool = false, addEOS: Bool = false, chatTemplate: String? = nil) {
        self.model = model
        self.preTokenizer = preTokenizer
        self.tokens = tokens
        self.tokenTypes = tokenTypes ?? Array(repeating: .normal, count: tokens.count)
        self.merges = merges
        self.bosId = bosId
        self.eosId = eosId
        self.eotId = eotId
        self.padId = padId
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.chatTemplate = chatTemplate
    }

    /// Number of tokens.
    public var count: Int { tokens.count }
}
