/// Errors raised while building a tokenizer from untrusted metadata.
///
/// Every case names the metadata key (or token) involved, what was expected and what was found.
public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    /// A required metadata key is absent.
    case missingMetadata(key: String)
    /// A metadata key holds a value of the wrong kind (e.g. an integer where a string array was expected).
    case wrongMetadataType(key: String, expected: String, found: String)
    /// `tokenizer.ggml.model` names a tokenizer family this module does not implement.
    case unsupportedModel(String)
    /// `tokenizer.ggml.pre` names a pre-tokenizer this module does not implement.
    case unsupportedPreTokenizer(String)
    /// Two parallel arrays (e.g. tokens and token types) disagree in length.
    case lengthMismatch(key: String, expected: Int, found: Int)
    /// A `tokenizer.ggml.token_type` entry is not one of the known token types (1...6).
    case invalidTokenType(index: Int, value: Int)
    /// A special-token id (BOS, EOS, ...) lies outside the vocabulary.
    case tokenIdOutOfRange(key: String, id: Int, vocabularySize: Int)
    /// The vocabulary is empty.
    case emptyVocabulary
    /// A byte-typed token whose text is not `<0xNN>`.
    case invalidByteToken(index: Int, text: String)
    /// A Hugging Face tokenizer file is not valid JSON or lacks a required field.
    case invalidJSON(file: String, reason: String)
    /// A Hugging Face tokenizer component (model type, pre-tokenizer, regex, normalizer,
    /// decoder) that this module does not implement; `path` locates it in the file.
    case unsupportedComponent(file: String, path: String, found: String, supported: String)

    public var description: String {
        switch self {
        case .missingMetadata(let key):
            return "tokenizer metadata: missing required key '\(key)'"
        case .wrongMetadataType(let key, let expected, let found):
            return "tokenizer metadata: key '\(key)' should be \(expected), found \(found)"
        case .unsupportedModel(let name):
            return "tokenizer.ggml.model '\(name)' is not supported (supported: gpt2 byte-level BPE, llama SentencePiece)"
        case .unsupportedPreTokenizer(let name):
            return "tokenizer.ggml.pre '\(name)' is not supported (supported: \(PreTokenizer.supportedNames.joined(separator: ", ")))"
        case .lengthMismatch(let key, let expected, let found):
            return "tokenizer metadata: '\(key)' has \(found) entries, expected \(expected) (one per token)"
        case .invalidTokenType(let index, let value):
            return "tokenizer.ggml.token_type[\(index)] = \(value), expected 1...6"
        case .tokenIdOutOfRange(let key, let id, let size):
            return "tokenizer metadata: '\(key)' = \(id) is outside the vocabulary of \(size) tokens"
        case .emptyVocabulary:
            return "tokenizer metadata: 'tokenizer.ggml.tokens' is empty"
        case .invalidJSON(let file, let reason):
            return "\(file): \(reason)"
        case .unsupportedComponent(let file, let path, let found, let supported):
            return "\(file): \(path) is \(found), which is not supported (supported: \(supported))"
        case .invalidByteToken(let index, let text):
            return "tokenizer metadata: token \(index) '\(text)' has the byte type, expected text <0xNN>"
        }
    }
}
