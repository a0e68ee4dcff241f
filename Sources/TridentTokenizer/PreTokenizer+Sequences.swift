/// Pre-tokenizers made of several regexes applied in turn, as llama.cpp's
/// `unicode_regex_split` does: each regex splits every piece of the previous step into its
/// matches and the gaps between them (both kept). Each regex is a hand-written finder that
/// returns the leftmost match at or after an index, inside one piece.
extension PreTokenizer {
    /// The leftmost match in `t[from..<end]`, or nil.
    typealias Finder = (ClassifiedText, Int, Int) -> Range<Int>?

    /// Splits every piece by `find`: matches and the gaps between them, in order.
    static func refine(_ t: ClassifiedText, _ pieces: [Range<Int>], _ find: Finder) -> [Range<Int>] {
        var out: [Range<Int>] = []
        out.reserveCapacity(pieces.count * 2)
        for piece in pieces {
            var i = piece.lowerBound
            while i < piece.upperBound, let m = find(t, i, piece.upperBound) {
                if m.lowerBound > i { out.append(i..<m.lowerBound) }
                out.append(m)
                i = m.upperBound
            }
            if i < piece.upperBound { out.append(i..<piece.upperBound) }
        }
        return out
    }

    /// The GPT-2 regex (llama.cpp's custom splitter) inside every piece.
    static func refineGPT2(_ text: ClassifiedText, _ pieces: [Range<Int>]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var chunk = text
        for piece in pieces {
            chunk.end = piece.upperBound
            scan(chunk, from: piece.lowerBound, emit: { out.append($0) }, match: gpt2Match)
        }
        return out
    }

    /// Pieces of the regex-sequence pre-tokenizers (`falcon`, `deepseek-llm`, `deepseek-coder`,
    /// `default`).
    func sequencePieces(_ t: ClassifiedText) -> [Range<Int>] {
        var p = t.end > 0 ? [0..<t.end] : []
        switch self {
        case .falcon:
            p = Self.refine(t, p) { Self.run($0, $1, $2, Self.isPunctuationOrASCIISymbol) }  // [\p{P}\$\+<=>\^~\|`]+
            p = Self.refineGPT2(t, p)
            p = Self.refine(t, p, Self.asciiDigitTriple)                                    // [0-9][0-9][0-9]
        case .bpeDefault:                                                                   // [\p{P}\$\+<=>\^~\|]+ (no `)
            p = Self.refine(t, p) { t, i, end in
                Self.run(t, i, end) { t, k in t.scalars[k] != "`" && Self.isPunctuationOrASCIISymbol(t, k) }
            }
            p = Self.refineGPT2(t, p)
            p = Self.refine(t, p) { Self.run($0, $1, $2) { t, i in t.classes[i] == .number } }  // \p{N}+
            p = Self.refine(t, p, Self.asciiDigitTriple)                                    // [0-9][0-9][0-9]
        case .deepseekCoder:
            p = Self.refine(t, p, Self.newline)                                             // [\r\n]
            p = Self.refine(t, p) { Self.spaceThenRun($0, $1, $2) { t, i in t.classes[i] == .letter } }  // \s?\p{L}+
            p = Self.refine(t, p) { Self.spaceThenRun($0, $1, $2, Self.isPunctuation) }    // \s?\p{P}+
            p = Self.refine(t, p) { Self.run($0, $1, $2, Self.isCJK) }                      // [一-龥ࠀ-一가-퟿]+
            p = Self.refine(t, p) { t, i, end in                                            // \p{N}
                (i..<end).first { t.classes[$0] == .number }.map { $0..<($0 + 1) }
            }
        case .deepseekLLM:
            p = Self.refine(t, p, Self.newline)                                             // [\r\n]
            p = Self.refine(t, p) { Self.spaceThenRun($0, $1, $2, DeepSeekRanges.isLetter) }
            p = Self.refine(t, p) { Self.spaceThenRun($0, $1, $2, DeepSeekRanges.isPunctuation) }
            p = Self.refine(t, p, Self.trailingSpaces)                                      // \s+$
            p = Self.refine(t, p) { Self.run($0, $1, $2, Self.isCJK) }                      // [一-龥ࠀ-一가-퟿]+
            p = Self.refine(t, p) { Self.run($0, $1, $2) { t, i in t.classes[i] == .number } }  // \p{N}+
        default:
            preconditionFailure("not a regex-sequence pre-tokenizer")
        }
        return p
    }

    // MARK: finders

    /// `[\r\n]`
    static func newline(_ t: ClassifiedText, _ from: Int, _ end: Int) -> Range<Int>? {
        (from..<end).first { t.scalars[$0] == "\r" || t.scalars[$0] == "\n" }.map { $0..<($0 + 1) }
    }

    /// `[class]+`: the first maximal run of scalars satisfying `isMember`.
    static func run(_ t: ClassifiedText, _ from: Int, _ end: Int,
                    _ isMember: (ClassifiedText, Int) -> Bool) -> Range<Int>? {
        guard let start = (from..<end).first(where: { isMember(t, $0) }) else { return nil }
        var j = start + 1
        while j < end && isMember(t, j) { j += 1 }
        return start..<j
    }

    /// `\s?[class]+`: a run, taking one whitespace scalar just before it.
    static func spaceThenRun(_ t: ClassifiedText, _ from: Int, _ end: Int,
                             _ isMember: (ClassifiedText, Int) -> Bool) -> Range<Int>? {
        guard let r = run(t, from, end, isMember) else { return nil }
        let withSpace = r.lowerBound > from && t.classes[r.lowerBound - 1] == .whitespace
        return (withSpace ? r.lowerBound - 1 : r.lowerBound)..<r.upperBound
    }

    /// `\s+$`: the whitespace run that ends the piece.
    static func trailingSpaces(_ t: ClassifiedText, _ from: Int, _ end: Int) -> Range<Int>? {
        var i = end
        while i > from && t.classes[i - 1] == .whitespace { i -= 1 }
        return i < end ? i..<end : nil
    }

    /// `[0-9][0-9][0-9]`
    static func asciiDigitTriple(_ t: ClassifiedText, _ from: Int, _ end: Int) -> Range<Int>? {
        func digit(_ k: Int) -> Bool { (0x30...0x39).contains(t.scalars[k].value) }
        var i = from
        while i + 3 <= end {
            if digit(i) && digit(i + 1) && digit(i + 2) { return i..<(i + 3) }
            i += 1
        }
        return nil
    }

    // MARK: classes

    /// `\p{P}` (llama.cpp collapses ASCII to its own list: ``!"#%&'()*,-./:;?@[\]_{}``).
    static func isPunctuation(_ t: ClassifiedText, _ i: Int) -> Bool {
        let s = t.scalars[i]
        if s.value < 0x80 { return asciiPunctuation.contains(UInt8(s.value)) }
        guard t.classes[i] != .whitespace else { return false }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }

    /// `[\p{P}\$\+<=>\^~\|`]`: Unicode punctuation and every ASCII punctuation or symbol.
    static func isPunctuationOrASCIISymbol(_ t: ClassifiedText, _ i: Int) -> Bool {
        let v = t.scalars[i].value
        if v < 0x80 { return t.classes[i] == .other && v > 0x20 && v != 0x7F }
        return isPunctuation(t, i)
    }

    /// `[一-龥ࠀ-一가-퟿]`: U+4E00-U+9FA5, U+0800-U+4E00, U+AC00-U+D7FF (not whitespace, which
    /// llama.cpp replaces before matching).
    static func isCJK(_ t: ClassifiedText, _ i: Int) -> Bool {
        let v = t.scalars[i].value
        return (0x0800...0x9FA5).contains(v) || (0xAC00...0xD7FF).contains(v) ? t.classes[i] != .whitespace : false
    }

    private static let asciiPunctuation: Set<UInt8> = Set(Array(##"!"#%&'()*,-./:;?@[\]_{}"##.utf8))
}
