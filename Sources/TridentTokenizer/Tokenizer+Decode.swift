extension Tokenizer {
    /// The raw bytes token `id` stands for (llama.cpp `token_to_piece`).
    ///
    /// Normal tokens undo the byte-level map; user-defined tokens give their literal text;
    /// control and unknown tokens give nothing unless `renderSpecial`, then their literal text.
    /// - Precondition: `0 <= id < vocabularySize`.
    public func bytes(of id: Int, renderSpecial: Bool = false) -> [UInt8] {
        precondition(id >= 0 && id < vocabularySize, "token id \(id) outside vocabulary of \(vocabularySize)")
        if renderSpecial, [.control, .unknown].contains(vocabulary.tokenTypes[id]) { return literalBytes[id] }
        return pieceBytes[id]
    }

    /// Text of a token sequence. Invalid UTF-8 (e.g. a sequence cut inside a character)
    /// becomes U+FFFD, as Python's `errors="replace"` does.
    /// - Precondition: every id is inside the vocabulary.
    ///
    /// SentencePiece vocabularies with ``TokenizerVocabulary/addSpacePrefix`` drop the space
    /// that encoding prepended: one leading space of the first token that yields text (after
    /// BOS or other tokens that decode to nothing), as `sentencepiece` does, so that
    /// `decode(encode(x)) == x`. Streaming (``StreamingDetokenizer``) continues a text and
    /// keeps every space.
    public func decode(_ ids: [Int], renderSpecial: Bool = false) -> String {
        var bytes: [UInt8] = []
        var stripSpace = sentencePiece != nil && vocabulary.addSpacePrefix
        for id in ids {
            let piece = self.bytes(of: id, renderSpecial: renderSpecial)
            if stripSpace, !piece.isEmpty {
                stripSpace = false
                if piece[0] == 0x20 { bytes.append(contentsOf: piece.dropFirst()); continue }
            }
            bytes.append(contentsOf: piece)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
