extension Tokenizer {
    /// A part of the input: raw text (a byte range of the UTF-8) or an already-matched token.
    enum Fragment {
        case text(Range<Int>)
        case token(Int)
    }

    /// Token ids of `text`, like llama.cpp's `llama_tokenize(text, add_special, parse_special)`.
    ///
    /// SentencePiece vocabularies prepend a space (`▁`) to the text and to every text
    /// fragment after a special token when ``TokenizerVocabulary/addSpacePrefix`` is set.
    ///
    /// - Parameters:
    ///   - parseSpecial: when true, literal texts of control tokens (e.g. `<|im_start|>`) in
    ///     `text` become those tokens; user-defined tokens are always matched.
    ///   - addSpecial: when true, BOS / EOS are added as the vocabulary's `addBOS` / `addEOS` say.
    public func encode(_ text: String, parseSpecial: Bool = false, addSpecial: Bool = true) -> [Int] {
        var out: [Int] = []
        if addSpecial, vocabulary.addBOS, let bos = vocabulary.bosId { out.append(bos) }
        let utf8 = Array((vocabulary.normalizeNFC ? Self.nfc(text) : text).utf8)
        var scratch: [UInt8] = []
        var afterSpecial = true          // SentencePiece: a space is prepended at the start and after specials
        for fragment in partition(utf8, parseSpecial: parseSpecial) {
            switch fragment {
            case .token(let id):
                out.append(id)
                afterSpecial = true
            case .text(let range):
                if let table = sentencePiece {
                    let prefix = vocabulary.addSpacePrefix && afterSpecial
                        && prefixes(range, of: utf8)
                    encodeSentencePiece(utf8[range], prefixSpace: prefix, table: table, into: &out)
                } else {
                    encodeText(utf8[range], into: &out, scratch: &scratch)
                }
                afterSpecial = false
            }
        }
        if addSpecial, vocabulary.addEOS, let eos = vocabulary.eosId { out.append(eos) }
        return out
    }

    /// Whether the SentencePiece fragment `range` (at the start or after a special token) gets
    /// the prefix space under the vocabulary's ``SpacePrefixRule``.
    func prefixes(_ range: Range<Int>, of utf8: [UInt8]) -> Bool {
        switch vocabulary.spacePrefixRule {
        case .everyFragment: return true
        case .everyFragmentNotStartingWithSpace: return utf8[range.lowerBound] != 0x20
        case .firstFragmentNotStartingWithSpace: return range.lowerBound == 0 && utf8[0] != 0x20
        }
    }

    /// Splits `utf8` at literal occurrences of special tokens, longest tokens first
    /// (llama.cpp's `tokenizer_st_partition`); tokens in ``TokenizerVocabulary/stripLeft`` /
    /// ``TokenizerVocabulary/stripRight`` also take the whitespace before / after them.
    func partition(_ utf8: [UInt8], parseSpecial: Bool) -> [Fragment] {
        var fragments: [Fragment] = utf8.isEmpty ? [] : [.text(0..<utf8.count)]
        for id in specialIds where vocabulary.tokenTypes[id].isMatchedInText(parseSpecial: parseSpecial) {
            let needle = literalBytes[id]
            var updated: [Fragment] = []
            updated.reserveCapacity(fragments.count)
            var changed = false
            for fragment in fragments {
                guard case .text(let range) = fragment else { updated.append(fragment); continue }
                var start = range.lowerBound
                var i = start
                let lstrip = vocabulary.stripLeft.contains(id), rstrip = vocabulary.stripRight.contains(id)
                while let hit = Self.find(needle, in: utf8, from: i, to: range.upperBound) {
                    var leftEnd = hit
                    while lstrip && leftEnd > start && Self.isSpace(utf8[leftEnd - 1]) { leftEnd -= 1 }
                    if leftEnd > start { updated.append(.text(start..<leftEnd)) }
                    updated.append(.token(id))
                    start = hit + needle.count
                    while rstrip && start < range.upperBound && Self.isSpace(utf8[start]) { start += 1 }
                    i = start
                    changed = true
                }
                if start < range.upperBound { updated.append(.text(start..<range.upperBound)) }
            }
            if changed { fragments = updated }
        }
        return fragments
    }

    /// C `isspace`: what llama.cpp strips around lstrip/rstrip special tokens.
    @inline(__always)
    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }

    /// First index >= `from` where `needle` occurs entirely before `end`.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int, to end: Int) -> Int? {
        guard let first = needle.first, end - from >= needle.count else { return nil }
        var i = from
        let last = end - needle.count
        while i <= last {
            if haystack[i] == first {
                var k = 1
                while k < needle.count && haystack[i + k] == needle[k] { k += 1 }
                if k == needle.count { return i }
            }
            i += 1
        }
        return nil
    }

    /// Pre-tokenizes and BPE-encodes raw text (no special-token matching).
    func encodeText(_ utf8: ArraySlice<UInt8>, into out: inout [Int], scratch: inout [UInt8]) {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(utf8.count)
        var decoder = UTF8()
        var iterator = utf8.makeIterator()
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let s): scalars.append(s)
            case .emptyInput: break loop
            case .error: scalars.append("\u{FFFD}")   // unreachable: Swift strings are valid UTF-8
            }
        }
        let text = ClassifiedText(scalars)
        preTokenizer.split(text) { range in
            scratch.removeAll(keepingCapacity: true)
            for s in scalars[range] { UTF8.encode(s) { scratch.append($0) } }
            encodePiece(scratch, into: &out)
        }
    }

    /// BPE-encodes the raw bytes of one pre-tokenized piece.
    func encodePiece(_ bytes: [UInt8], into out: inout [Int]) {
        if vocabulary.ignoreMerges ?? preTokenizer.ignoresMerges, let id = tokenToId[byteLevel.encode(bytes)] {
            out.append(id)
            return
        }
        for symbol in BytePairEncoder.encode(bytes, table: mergeTable) {
            if Int(symbol) < vocabularySize {
                out.append(Int(symbol))
            } else {
                // Only in incomplete vocabularies: fall back to the symbol's scalars that exist.
                for scalar in mergeTable.syntheticText(symbol).unicodeScalars {
                    if let id = tokenToId[String(scalar)] { out.append(id) }
                }
            }
        }
    }
}
