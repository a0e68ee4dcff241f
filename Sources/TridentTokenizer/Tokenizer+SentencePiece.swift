extension Tokenizer {
    /// UTF-8 of U+2581 `▁`, SentencePiece's spelling of a space.
    static let metaSpace: [UInt8] = [0xE2, 0x96, 0x81]

    /// Encodes one raw-text fragment of a SentencePiece vocabulary: optionally a space first
    /// (``TokenizerVocabulary/addSpacePrefix`` at the start and after special tokens), every
    /// space spelled `▁`, then scored merges.
    func encodeSentencePiece(_ utf8: ArraySlice<UInt8>, prefixSpace: Bool, table: SentencePieceTable,
                             into out: inout [Int]) {
        var escaped: [UInt8] = []
        escaped.reserveCapacity(utf8.count + 3 * 8)
        if prefixSpace { escaped.append(contentsOf: Self.metaSpace) }
        for b in utf8 {
            if b == 0x20 { escaped.append(contentsOf: Self.metaSpace) } else { escaped.append(b) }
        }
        SentencePieceEncoder.encode(escaped, table: table, into: &out)
    }

    /// What each SentencePiece token decodes to (llama.cpp `token_to_piece`): normal tokens
    /// with `▁` turned into spaces, byte tokens their byte, user-defined tokens their literal
    /// text, control, unknown and unused tokens nothing. [vocab]
    static func sentencePieceBytes(_ vocabulary: TokenizerVocabulary) -> [[UInt8]] {
        zip(vocabulary.tokens, vocabulary.tokenTypes).map { text, type in
            switch type {
            case .normal: return unescapeSpaces(Array(text.utf8))
            case .byte: return SentencePieceTable.byteValue(text).map { [$0] } ?? []
            case .userDefined: return Array(text.utf8)
            case .control, .unknown, .unused: return []
            }
        }
    }

    /// `bytes` with every `▁` replaced by a space.
    static func unescapeSpaces(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if i + 2 < bytes.count, bytes[i] == 0xE2, bytes[i + 1] == 0x96, bytes[i + 2] == 0x81 {
                out.append(0x20)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }
}
