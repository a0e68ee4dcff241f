/// Everything a tokenizer needs, as plain values (independent of the file it came from).
///
/// Build one from GGUF metadata with ``init(metadata:)``, from a Hugging Face `tokenizer.json`
/// with ``init(huggingFaceJSON:config:)``, or directly in tests. Token ids are
/// indices into ``tokens``.
public struct TokenizerVocabulary: Sendable, Equatable {
    /// Tokenizer family (`tokenizer.ggml.model`): `gpt2` (byte-level BPE) or `llama`
    /// (SentencePiece: scored merges, `▁` for spaces, `<0xNN>` byte fallback).
    public var model: String
    /// Pre-tokenizer name (`tokenizer.ggml.pre`), e.g. `smollm`, `gpt-2`, `llama-bpe`, `qwen2`.
    public var preTokenizer: String
    /// Token texts, one per id: byte-level BPE spelling (`Ġ` for a space byte, ...) for `gpt2`,
    /// SentencePiece spelling (`▁` for a space, `<0x0A>` byte tokens) for `llama`.
    public var tokens: [String]
    /// One type per token.
    public var tokenTypes: [TokenType]
    /// BPE merges in priority order, each "left right" (split at the first space after position 0).
    /// A `llama` vocabulary without ``scores`` (from a Hugging Face tokenizer.json) merges by these ranks.
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
    /// SentencePiece merge scores, one per token (higher merges first); empty for BPE.
    public var scores: [Float]
    /// The unknown token, used by SentencePiece when neither a piece nor a byte token exists.
    public var unknownId: Int?
    /// SentencePiece: a space is prepended to text at the start and after every special token.
    public var addSpacePrefix: Bool
    /// Whether a whole pre-tokenized piece found in the vocabulary is taken before merging
    /// (Hugging Face `ignore_merges`); nil: as the pre-tokenizer implies (Llama 3 only).
    public var ignoreMerges: Bool?
    /// SentencePiece: which text fragments get the prefix space when ``addSpacePrefix`` is set.
    public var spacePrefixRule: SpacePrefixRule
    /// Special tokens that swallow the whitespace before them when matched in text (Hugging Face
    /// added-token `lstrip`).
    public var stripLeft: Set<Int>
    /// Special tokens that swallow the whitespace after them when matched in text (`rstrip`;
    /// llama.cpp sets it for Phi-3's special tokens).
    public var stripRight: Set<Int>
    /// Unicode NFC-normalize text before encoding (Hugging Face `NFC` normalizer, Qwen 2).
    public var normalizeNFC: Bool

    /// Creates a vocabulary from explicit values. Token types default to `.normal`.
    public init(model: String = "gpt2", preTokenizer: String, tokens: [String],
                tokenTypes: [TokenType]? = nil, merges: [String],
                bosId: Int? = nil, eosId: Int? = nil, eotId: Int? = nil, padId: Int? = nil,
                addBOS: Bool = false, addEOS: Bool = false, chatTemplate: String? = nil,
                scores: [Float] = [], unknownId: Int? = nil, addSpacePrefix: Bool = false,
                ignoreMerges: Bool? = nil, spacePrefixRule: SpacePrefixRule = .everyFragment, normalizeNFC: Bool = false,
                stripLeft: Set<Int> = [], stripRight: Set<Int> = []) {
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
        self.scores = scores
        self.unknownId = unknownId
        self.addSpacePrefix = addSpacePrefix
        self.ignoreMerges = ignoreMerges
        self.spacePrefixRule = spacePrefixRule
        self.normalizeNFC = normalizeNFC
        self.stripLeft = stripLeft
        self.stripRight = stripRight
    }

    /// Number of tokens.
    public var count: Int { tokens.count }
}

/// Which raw-text fragments (the text between special tokens) a SentencePiece tokenizer
/// prefixes with a space (`▁`).
public enum SpacePrefixRule: Sendable, Equatable {
    /// Every fragment at the start or after a special token (llama.cpp, `sentencepiece`,
    /// Hugging Face `Prepend("▁")` normalizer).
    case everyFragment
    /// As ``everyFragment``, but not a fragment that already starts with a space (Hugging Face
    /// `Metaspace`, `prepend_scheme: always`).
    case everyFragmentNotStartingWithSpace
    /// Only a fragment at the very start of the input that does not start with a space
    /// (Hugging Face `Metaspace`, `prepend_scheme: first`).
    case firstFragmentNotStartingWithSpace
}
