/// Lookup tables of a SentencePiece (`llama`) vocabulary: pieces that merges may produce,
/// their scores, and the `<0xNN>` byte tokens.
struct SentencePieceTable: Sendable {
    /// Piece UTF-8 (`▁` spelling) -> id, for the tokens text may turn into (normal and
    /// user-defined); control, unknown, byte and unused tokens are never produced by merging.
    /// Keyed by bytes, not `String`: Swift strings compare by canonical equivalence, which
    /// would take "A" + U+030A for the piece "Å". Slices hash and compare by their bytes, so
    /// lookups take slices of the text without copying.
    let pieceIds: [ArraySlice<UInt8>: Int32]
    /// Merge score of each token (higher merges first). [vocab]
    let scores: [Float]
    /// Token id of each byte's `<0xNN>` token, or -1 where the vocabulary has none. [256]
    let byteIds: [Int32]
    /// Used for a byte that has no byte token.
    let unknownId: Int32?
    /// Hugging Face SentencePiece-style BPE: merge rank of each "left right" pair; a pair not
    /// listed never merges. Nil for GGUF vocabularies, which merge by the result's score.
    let pairRanks: [[UInt8]: Int32]?

    /// - Throws: ``TokenizerError/lengthMismatch(key:expected:found:)`` when scores and tokens
    ///   disagree in length, ``TokenizerError/invalidByteToken(index:text:)`` for a byte-typed
    ///   token whose text is not `<0xNN>`.
    init(_ vocabulary: TokenizerVocabulary) throws(TokenizerError) {
        let n = vocabulary.tokens.count
        guard vocabulary.scores.isEmpty || vocabulary.scores.count == n else {
            throw TokenizerError.lengthMismatch(key: GGUFTokenizerKey.scores, expected: n,
                                                found: vocabulary.scores.count)
        }
        scores = vocabulary.scores.isEmpty ? [Float](repeating: 0, count: n) : vocabulary.scores
        var pieces: [ArraySlice<UInt8>: Int32] = [:]
        pieces.reserveCapacity(n)
        var bytes = [Int32](repeating: -1, count: 256)
        for (id, (text, type)) in zip(vocabulary.tokens, vocabulary.tokenTypes).enumerated() {
            switch type {
            case .normal, .userDefined:
                pieces[Array(text.utf8)[...]] = Int32(id)     // last wins, as llama.cpp
            case .byte:
                guard let b = Self.byteValue(text) else {
                    throw TokenizerError.invalidByteToken(index: id, text: text)
                }
                if bytes[Int(b)] < 0 { bytes[Int(b)] = Int32(id) }
            case .control, .unknown, .unused:
                break
            }
        }
        pieceIds = pieces
        byteIds = bytes
        unknownId = vocabulary.unknownId.map(Int32.init)
        if vocabulary.scores.isEmpty && !vocabulary.merges.isEmpty {
            var ranks: [[UInt8]: Int32] = [:]
            ranks.reserveCapacity(vocabulary.merges.count)
            for (rank, merge) in vocabulary.merges.enumerated() where ranks[Array(merge.utf8)] == nil {
                ranks[Array(merge.utf8)] = Int32(rank)
            }
            pairRanks = ranks
        } else {
            pairRanks = nil
        }
    }

    /// The byte a `<0xNN>` token stands for (two hex digits), or nil.
    static func byteValue(_ text: String) -> UInt8? {
        let u = Array(text.utf8)
        guard u.count == 6, u[0] == 0x3C, u[1] == 0x30, u[2] == 0x78, u[5] == 0x3E else { return nil }
        return UInt8(String(decoding: u[3...4], as: UTF8.self), radix: 16)
    }
}

/// SentencePiece BPE on one text fragment, like llama.cpp's `llm_tokenizer_spm`: start from
/// the UTF-8 characters, repeatedly merge the adjacent pair whose concatenation is a piece with
/// the highest score (leftmost on ties), then emit each final symbol as its piece or, if the
/// vocabulary lacks it, as `<0xNN>` byte tokens. With ``SentencePieceTable/pairRanks`` (Hugging
/// Face `tokenizer.json`), only listed pairs merge, lowest rank first, as `tokenizers` does.
enum SentencePieceEncoder {
    private struct Bigram: Comparable {
        var score: Float
        var left: Int32     // symbol index of the left part
        var right: Int32    // symbol index of the right part
        var size: Int32     // bytes of the merged text
        /// "Smaller" pops first from a min-heap: higher score, then the leftmost.
        static func < (a: Bigram, b: Bigram) -> Bool {
            a.score != b.score ? a.score > b.score : a.left < b.left
        }
    }

    private struct Symbol {
        var start: Int32
        var length: Int32   // bytes; 0 = merged into its left neighbour
        var prev: Int32
        var next: Int32
    }

    /// Appends the ids of `text` (already in `▁` spelling, UTF-8) to `out`.
    static func encode(_ text: [UInt8], table: SentencePieceTable, into out: inout [Int]) {
        var symbols = characters(text)
        if symbols.isEmpty { return }
        var heap = MinHeap<Bigram>()

        func consider(_ l: Int32, _ r: Int32) {
            guard l >= 0, r >= 0 else { return }
            let a = symbols[Int(l)], b = symbols[Int(r)]
            let size = a.length + b.length
            guard let id = table.pieceIds[text[Int(a.start)..<Int(a.start + size)]] else { return }
            var score = table.scores[Int(id)]
            if let ranks = table.pairRanks {
                var key = Array(text[Int(a.start)..<Int(a.start + a.length)])
                key.append(0x20)
                key.append(contentsOf: text[Int(b.start)..<Int(b.start + b.length)])
                guard let rank = ranks[key] else { return }
                score = -Float(rank)                          // lower rank merges first
            }
            heap.push(Bigram(score: score, left: l, right: r, size: size))
        }
        for i in 1..<symbols.count { consider(Int32(i - 1), Int32(i)) }
        while let bigram = heap.pop() {
            let l = Int(bigram.left), r = Int(bigram.right)
            // Outdated: one side was merged since this pair was queued.
            guard symbols[l].length > 0, symbols[r].length > 0,
                  symbols[l].length + symbols[r].length == bigram.size else { continue }
            symbols[l].length += symbols[r].length
            symbols[r].length = 0
            symbols[l].next = symbols[r].next
            if symbols[r].next >= 0 { symbols[Int(symbols[r].next)].prev = bigram.left }
            consider(symbols[l].prev, bigram.left)
            consider(bigram.left, symbols[l].next)
        }
        var i: Int32 = 0
        while i >= 0 {
            let s = symbols[Int(i)]
            emit(text[Int(s.start)..<Int(s.start + s.length)], table: table, into: &out)
            i = s.next
        }
    }

    /// One symbol per UTF-8 character (a truncated sequence at the end is one short symbol).
    private static func characters(_ text: [UInt8]) -> [Symbol] {
        var symbols: [Symbol] = []
        symbols.reserveCapacity(text.count)
        var offset = 0
        while offset < text.count {
            let length = min(utf8Length(lead: text[offset]), text.count - offset)
            let index = Int32(symbols.count)
            symbols.append(Symbol(start: Int32(offset), length: Int32(length), prev: index - 1, next: index + 1))
            offset += length
        }
        symbols[symbols.count - 1].next = -1
        return symbols
    }

    /// Bytes of the UTF-8 sequence starting with `lead` (1 for a stray continuation byte).
    @inline(__always)
    static func utf8Length(lead: UInt8) -> Int {
        switch lead >> 4 {
        case 0xC, 0xD: return 2
        case 0xE: return 3
        case 0xF: return 4
        default: return 1
        }
    }

    /// A final symbol: its piece, or one byte token per byte (the unknown token where a byte
    /// token is missing).
    private static func emit(_ bytes: ArraySlice<UInt8>, table: SentencePieceTable, into out: inout [Int]) {
        if let id = table.pieceIds[bytes] {
            out.append(Int(id))
            return
        }
        for b in bytes {
            let id = table.byteIds[Int(b)]
            if id >= 0 {
                out.append(Int(id))
            } else if let unk = table.unknownId {
                out.append(Int(unk))
            }
        }
    }
}
