import Foundation

extension Tokenizer {
    /// Builds the tokenizer of a Hugging Face `tokenizer.json` (contents), with its
    /// `tokenizer_config.json` (contents) when present; see
    /// ``TokenizerVocabulary/init(huggingFaceJSON:config:)`` for what is supported.
    /// - Throws: ``TokenizerError`` naming the file and the field that is malformed or unsupported.
    public init(huggingFaceJSON: Data, config: Data? = nil) throws(TokenizerError) {
        try self.init(vocabulary: TokenizerVocabulary(huggingFaceJSON: huggingFaceJSON, config: config))
    }

    /// Reads `tokenizerJSON` and, if given, `tokenizerConfig` from disk.
    /// - Throws: ``TokenizerError/invalidJSON(file:reason:)`` when a file cannot be read, and
    ///   whatever ``init(huggingFaceJSON:config:)`` throws.
    public static func load(tokenizerJSON: URL, tokenizerConfig: URL? = nil) throws(TokenizerError) -> Tokenizer {
        let json = try read(tokenizerJSON)
        let config = try tokenizerConfig.map { (url: URL) throws(TokenizerError) -> Data in try read(url) }
        return try Tokenizer(huggingFaceJSON: json, config: config)
    }

    /// The tokenizer of a Hugging Face model directory: `tokenizer.json`, plus
    /// `tokenizer_config.json` when the directory has one.
    public static func load(huggingFaceDirectory directory: URL) throws(TokenizerError) -> Tokenizer {
        let config = directory.appendingPathComponent("tokenizer_config.json")
        return try load(tokenizerJSON: directory.appendingPathComponent("tokenizer.json"),
                        tokenizerConfig: FileManager.default.fileExists(atPath: config.path) ? config : nil)
    }

    private static func read(_ url: URL) throws(TokenizerError) -> Data {
        do {
            return try Data(contentsOf: url)
        } catch {
            throw TokenizerError.invalidJSON(file: url.path, reason: "cannot be read (\(error.localizedDescription))")
        }
    }

    /// Unicode NFC form of `text` (Hugging Face `NFC` normalizer).
    static func nfc(_ text: String) -> String { text.precomposedStringWithCanonicalMapping }
}
