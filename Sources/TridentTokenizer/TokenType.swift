/// The kind of a vocabulary entry, as stored in GGUF `tokenizer.ggml.token_type`.
public enum TokenType: Int32, Sendable, Equatable, CaseIterable {
    /// Ordinary text token (byte-level BPE symbol).
    case normal = 1
    /// The unknown-token placeholder.
    case unknown = 2
    /// Control token such as `<|im_start|>`: matched in text only with `parseSpecial`,
    /// decoded to nothing unless special tokens are rendered.
    case control = 3
    /// User-defined token: always matched in text and always decoded as its literal text.
    case userDefined = 4
    /// Reserved, never produced by the tokenizer.
    case unused = 5
    /// Raw byte token (SentencePiece `<0xAB>` style).
    case byte = 6

    /// Whether encoding may match this token's literal text inside the input.
    func isMatchedInText(parseSpecial: Bool) -> Bool {
        switch self {
        case .userDefined: return true
        case .control, .unknown: return parseSpecial
        default: return false
        }
    }
}
