extension JinjaLexer {
    private static let twoCharOps: Set<String> = ["==", "!=", "<=", ">=", "//", "**"]
    private static let oneCharOps: Set<UInt8> = Set("+-*/%~<>=()[]{},.:|".utf8)

    /// Tokenizes the inside of a tag starting at `start` up to its closing `close` (`}}` or `%}`),
    /// outside strings and brackets. Returns the tokens, the offset after the tag, and whether
    /// the tag ended with `-` or `+` before the closing characters.
    func tokenize(from start: Int, close: [UInt8], tagStart: Int) throws(ChatTemplateError)
        -> (tokens: [JinjaToken], end: Int, minus: Bool, plus: Bool) {
        var tokens: [JinjaToken] = []
        var depth = 0
        var i = start
        while i < source.count {
            let b = source[i]
            if Self.isSpace(b) { i += 1; continue }
            // Closing: optional -/+ then the two closing characters, at bracket depth 0.
            if depth == 0 {
                for (marker, length) in [(UInt8(ascii: "-"), 1), (UInt8(ascii: "+"), 1), (0, 0)] {
                    if length == 1 && b != marker { continue }
                    let c = i + length
                    if c + 1 < source.count && source[c] == close[0] && source[c + 1] == close[1] {
                        return (tokens, c + 2, length == 1 && marker == UInt8(ascii: "-"),
                                length == 1 && marker == UInt8(ascii: "+"))
                    }
                }
            }
            if b == UInt8(ascii: "'") || b == UInt8(ascii: "\"") {
                let (text, end) = try readString(at: i)
                tokens.append(JinjaToken(kind: .string, text: text, offset: i))
                i = end
            } else if Self.isDigit(b) {
                var j = i
                while j < source.count && Self.isDigit(source[j]) { j += 1 }
                var kind = JinjaToken.Kind.integer
                if j + 1 < source.count && source[j] == UInt8(ascii: ".") && Self.isDigit(source[j + 1]) {
                    kind = .float
                    j += 1
                    while j < source.count && Self.isDigit(source[j]) { j += 1 }
                }
                tokens.append(JinjaToken(kind: kind, text: String(decoding: source[i..<j], as: UTF8.self), offset: i))
                i = j
            } else if Self.isNameStart(b) {
                var j = i
                while j < source.count && (Self.isNameStart(source[j]) || Self.isDigit(source[j])) { j += 1 }
                tokens.append(JinjaToken(kind: .name, text: String(decoding: source[i..<j], as: UTF8.self), offset: i))
                i = j
            } else if i + 1 < source.count,
                      Self.twoCharOps.contains(String(decoding: source[i...(i + 1)], as: UTF8.self)) {
                tokens.append(JinjaToken(kind: .op, text: String(decoding: source[i...(i + 1)], as: UTF8.self), offset: i))
                i += 2
            } else if Self.oneCharOps.contains(b) {
                if b == UInt8(ascii: "(") || b == UInt8(ascii: "[") || b == UInt8(ascii: "{") { depth += 1 }
                if b == UInt8(ascii: ")") || b == UInt8(ascii: "]") || b == UInt8(ascii: "}") { depth -= 1 }
                tokens.append(JinjaToken(kind: .op, text: String(UnicodeScalar(b)), offset: i))
                i += 1
            } else {
                throw error("unexpected character '\(String(UnicodeScalar(b)))' in tag", at: i)
            }
        }
        throw error("tag opened here is never closed", at: tagStart)
    }

    /// Reads a quoted string literal with Python-style escapes; returns its value and end offset.
    private func readString(at start: Int) throws(ChatTemplateError) -> (String, Int) {
        let quote = source[start]
        var bytes: [UInt8] = []
        var i = start + 1
        while i < source.count {
            let b = source[i]
            if b == quote { return (String(decoding: bytes, as: UTF8.self), i + 1) }
            if b == UInt8(ascii: "\\"), i + 1 < source.count {
                let e = source[i + 1]
                switch e {
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): bytes.append(e)
                default: bytes.append(b); bytes.append(e)
                }
                i += 2
                continue
            }
            bytes.append(b)
            i += 1
        }
        throw error("unterminated string literal", at: start)
    }

    private func error(_ message: String, at offset: Int) -> ChatTemplateError {
        let p = locator.position(offset)
        return .syntax(message, line: p.line, column: p.column)
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    static func isNameStart(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
    }
}
