import TridentFormats

extension Tokenizer {
    /// Builds the tokenizer stored in a GGUF file's metadata.
    /// - Throws: ``TokenizerError`` if the tokenizer metadata is missing, malformed or unsupported.
    public init(gguf file: GGUFFile) throws(TokenizerError) {
        try self.init(vocabulary: TokenizerVocabulary(metadata: file.metadata))
    }
}
