/// Byte-level BPE (GPT-2 style, GGUF `tokenizer.ggml.model = gpt2`) or SentencePiece
/// (`tokenizer.ggml.model = llama`) tokenizer, matching llama.cpp's `llama_tokenize` /
/// `llama_token_to_piece`.
///
/// Immutable after construction and `Sendable`: one instance can serve many threads.
/// Token ids are `Int` indices into ``vocabulary``'s tokens.
public struct Tokenizer: Sendable {
    /// The vocabulary this tokenizer was built from.
    public let vocabulary: TokenizerVocabulary
    /// The pre-tokenizer selected by the vocabulary's `preTokenizer` name.
    public let preTokenizer: PreTokenizer
    /// Ids that end generation; see ``EndOfGeneration``.
    public let endOfGenerationIds: Set<Int>

    let byteLevel: ByteLevelMapping
    let mergeTable: BPEMergeTable
    /// Set for SentencePiece vocabularies, which encode with scored merges instead of BPE ranks.
    let sentencePiece: SentencePieceTable?
    let tokenToId: [String: Int]
    /// Raw bytes each token decodes to when special tokens are not rendered. [vocab]
    let pieceBytes: [[UInt8]]
    /// UTF-8 of each token's literal text (used for special tokens). [vocab]
    let literalBytes: [[UInt8]]
    /// Tokens that may be matched literally in input text, longest first (ties: lower id).
    let specialIds: [Int]
    /// The chat template parsed once (a parse failure is reported when the template is used).
    let parsedChatTemplate: Result<ChatTemplate, ChatTemplateError>?

    /// Builds the tokenizer's lookup tables.
    /// - Throws: ``TokenizerError/unsupportedModel(_:)`` unless the model is `gpt2` or `llama`,
    ///   ``TokenizerError/unsupportedPreTokenizer(_:)`` for an unknown BPE pre-tokenizer name,
    ///   ``TokenizerError/lengthMismatch(key:expected:found:)`` if token types do not match tokens.
    public init(vocabulary: TokenizerVocabulary) throws(TokenizerError) {
        let isSentencePiece: Bool
        switch vocabulary.model {
        case "gpt2": isSentencePiece = false
        case "llama": isSentencePiece = true
        default: throw TokenizerError.unsupportedModel(vocabulary.model)
        }
        guard let pre = isSentencePiece ? .wholeText : PreTokenizer(name: vocabulary.preTokenizer) else {
            throw TokenizerError.unsupportedPreTokenizer(vocabulary.preTokenizer)
        }
        guard !vocabulary.tokens.isEmpty else { throw TokenizerError.emptyVocabulary }
        guard vocabulary.tokenTypes.count == vocabulary.tokens.count else {
            throw TokenizerError.lengthMismatch(key: GGUFTokenizerKey.tokenType,
                                                expected: vocabulary.tokens.count,
                                                found: vocabulary.tokenTypes.count)
        }
        let size = vocabulary.tokens.count
        for (key, id) in [(GGUFTokenizerKey.bos, vocabulary.bosId), (GGUFTokenizerKey.eos, vocabulary.eosId),
                          (GGUFTokenizerKey.eot, vocabulary.eotId), (GGUFTokenizerKey.pad, vocabulary.padId),
                          (GGUFTokenizerKey.unknown, vocabulary.unknownId)] {
            if let id, id < 0 || id >= size {
                throw TokenizerError.tokenIdOutOfRange(key: key, id: id, vocabularySize: size)
            }
        }
        self.vocabulary = vocabulary
        self.preTokenizer = pre
        let byteLevel = ByteLevelMapping()
        self.byteLevel = byteLevel
        var tokenToId: [String: Int] = [:]
        tokenToId.reserveCapacity(size)
        for (id, text) in vocabulary.tokens.enumerated() { tokenToId[text] = id }   // last wins, as llama.cpp
        self.tokenToId = tokenToId
        self.mergeTable = BPEMergeTable(tokens: vocabulary.tokens, tokenToId: tokenToId,
                                        merges: vocabulary.merges, byteLevel: byteLevel)
        self.literalBytes = vocabulary.tokens.map { Array($0.utf8) }
        if isSentencePiece {
            let table = try SentencePieceTable(vocabulary)
            self.sentencePiece = table
            self.pieceBytes = Self.sentencePieceBytes(vocabulary)
        } else {
            self.sentencePiece = nil
            self.pieceBytes = zip(vocabulary.tokens, vocabulary.tokenTypes).map { text, type in
                switch type {
                case .control, .unknown: return []
                case .userDefined: return Array(text.utf8)
                case .normal, .unused, .byte: return byteLevel.decode(text)
                }
            }
        }
        let literal = self.literalBytes
        self.specialIds = vocabulary.tokenTypes.indices
            .filter { [.control, .userDefined, .unknown].contains(vocabulary.tokenTypes[$0]) && !literal[$0].isEmpty }
            .sorted { literal[$0].count != literal[$1].count ? literal[$0].count > literal[$1].count : $0 < $1 }
        self.endOfGenerationIds = EndOfGeneration.ids(for: vocabulary)
        self.parsedChatTemplate = vocabulary.chatTemplate.map { source in
            Result { () throws(ChatTemplateError) in try ChatTemplate(source) }
        }
    }

    /// Number of tokens in the vocabulary.
    public var vocabularySize: Int { vocabulary.tokens.count }

    /// Whether `id` ends generation (EOS, EOT or another end-of-turn marker).
    public func isEndOfGeneration(_ id: Int) -> Bool { endOfGenerationIds.contains(id) }

    /// The id of a token by its exact vocabulary text (byte-level spelling), if present.
    public func id(of tokenText: String) -> Int? { tokenToId[tokenText] }
}
