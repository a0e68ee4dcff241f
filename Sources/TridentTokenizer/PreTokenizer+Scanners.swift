extension PreTokenizer {
    /// One match of the GPT-2 regex
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` at `i`;
    /// returns the end of the match. Alternatives are tried in regex order.
    static func gpt2Match(_ t: ClassifiedText, at i: Int) -> Int {
        if t.scalars[i] == "'", let n = contractionLength(t, at: i + 1, caseInsensitive: false) {
            return i + 1 + n
        }
        var start = i
        if t.scalars[i] == " ", i + 1 < t.end, t.classes[i + 1] != .whitespace {
            start = i + 1                                  // ` ?` before a letter/number/other run
        }
        let cls = t.classes[start]
        if cls != .whitespace {
            return runEnd(t, from: start, cls)
        }
        return whitespaceMatch(t, at: i)
    }

    /// One match of the Llama 3 regex (Qwen 2 with `maxDigits` 1):
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*`
    /// `|\s*[\r\n]+|\s+(?!\S)|\s+` at `i`; returns the end of the match.
    static func llama3Match(_ t: ClassifiedText, at i: Int, maxDigits: Int) -> Int {
        if t.scalars[i] == "'", let n = contractionLength(t, at: i + 1, caseInsensitive: true) {
            return i + 1 + n
        }
        let cls = t.classes[i]
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if cls == .letter { return runEnd(t, from: i, .letter) }
        if cls != .number && !t.isNewline(i) && t.isLetter(i + 1) { return runEnd(t, from: i + 1, .letter) }
        // \p{N}{1,maxDigits}
        if cls == .number {
            var j = i + 1
            while j < t.end && j - i < maxDigits && t.classes[j] == .number { j += 1 }
            return j
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        let start = (t.scalars[i] == " " && t.isOther(i + 1)) ? i + 1 : i
        if t.isOther(start) {
            var j = runEnd(t, from: start, .other)
            while t.isNewline(j) { j += 1 }
            return j
        }
        // \s*[\r\n]+ : up to and including the last newline of the whitespace run
        let k = runEnd(t, from: i, .whitespace)
        var p = k - 1
        while p >= i && !t.isNewline(p) { p -= 1 }
        if p >= i { return p + 1 }
        return whitespaceMatch(t, at: i)
    }
}
