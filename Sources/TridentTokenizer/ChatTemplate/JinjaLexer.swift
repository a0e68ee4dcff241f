/// One token inside a `{{ }}` or `{% %}` tag.
struct JinjaToken: Equatable, Sendable {
    enum Kind: Equatable, Sendable { case name, string, integer, float, op }
    var kind: Kind
    var text: String
    /// Byte offset in the template source.
    var offset: Int
}

/// A top-level piece of a template: literal text, an output tag or a statement tag.
enum JinjaSegment: Sendable {
    case text(String)
    /// `{{ ... }}`; `offset` is where the tag starts.
    case output([JinjaToken], offset: Int)
    /// `{% ... %}`.
    case statement([JinjaToken], offset: Int)
}

/// Splits a template into segments, applying whitespace control (`{%-`, `-%}`, `trim_blocks`,
/// `lstrip_blocks`), and tokenizes the inside of each tag.
struct JinjaLexer {
    let source: [UInt8]
    let locator: SourceLocator
    let trimBlocks: Bool
    let lstripBlocks: Bool

    init(_ text: String, trimBlocks: Bool, lstripBlocks: Bool) {
        var bytes = Array(text.utf8)
        // jinja2's default keep_trailing_newline=False drops one newline at the end of the source.
        if bytes.last == 0x0A { bytes.removeLast(); if bytes.last == 0x0D { bytes.removeLast() } }
        source = bytes
        locator = SourceLocator(source)
        self.trimBlocks = trimBlocks
        self.lstripBlocks = lstripBlocks
    }

    /// All segments in order.
    func segments() throws(ChatTemplateError) -> [JinjaSegment] {
        var out: [JinjaSegment] = []
        var pendingText: [UInt8] = []
        var segmentStart = 0           // where the text since the last tag or comment begins
        var stripNextText = false      // `-%}`: drop all leading whitespace of the next text
        var trimNextNewline = false    // trim_blocks: drop one newline after a block tag
        var lineStarting = true        // the previous tag's match ended with a newline
        var i = 0
        func flushText() {
            if !pendingText.isEmpty { out.append(.text(String(decoding: pendingText, as: UTF8.self))) }
            pendingText = []
        }
        while i < source.count {
            guard isTagStart(i) else {
                var j = i
                while j < source.count && !isTagStart(j) { j += 1 }
                var text = Array(source[i..<j])
                var consumedNewline = false
                if stripNextText {
                    let n = text.prefix { Self.isSpace($0) }.count
                    consumedNewline = n > 0 && text[n - 1] == 0x0A
                    text.removeFirst(n)
                }
                if trimNextNewline {
                    if text.first == 0x0A { text.removeFirst(); consumedNewline = true }
                    else if text.starts(with: [0x0D, 0x0A]) { text.removeFirst(2); consumedNewline = true }
                }
                if stripNextText || trimNextNewline { lineStarting = consumedNewline }
                stripNextText = false
                trimNextNewline = false
                pendingText += text
                i = j
                continue
            }
            let kind = source[i + 1]
            let tagStart = i
            var p = i + 2
            let modifier = p < source.count ? source[p] : 0
            if modifier == UInt8(ascii: "-") {
                while pendingText.count > segmentStart, let last = pendingText.last, Self.isSpace(last) {
                    pendingText.removeLast()
                }
                p += 1
            } else if modifier == UInt8(ascii: "+") {
                p += 1
            } else if lstripBlocks && kind != UInt8(ascii: "{") {
                Self.lstripLine(&pendingText, from: segmentStart, lineStarting: lineStarting)
            }
            stripNextText = false
            trimNextNewline = false
            lineStarting = false
            if kind == UInt8(ascii: "#") {
                guard let end = find("#}", from: p) else {
                    let pos = locator.position(tagStart)
                    throw .syntax("unclosed comment", line: pos.line, column: pos.column)
                }
                let minus = end > p && source[end - 1] == UInt8(ascii: "-")
                stripNextText = minus
                trimNextNewline = trimBlocks && !minus
                segmentStart = pendingText.count
                i = end + 2
                continue
            }
            let close: [UInt8] = kind == UInt8(ascii: "{") ? [0x7D, 0x7D] : [0x25, 0x7D]   // }} or %}
            let (tokens, end, minus, plus) = try tokenize(from: p, close: close, tagStart: tagStart)
            flushText()
            segmentStart = 0
            if kind == UInt8(ascii: "{") {
                out.append(.output(tokens, offset: tagStart))
            } else {
                out.append(.statement(tokens, offset: tagStart))
                trimNextNewline = trimBlocks && !minus && !plus
            }
            stripNextText = minus
            i = end
        }
        flushText()
        return out
    }

    private func isTagStart(_ i: Int) -> Bool {
        guard source[i] == UInt8(ascii: "{"), i + 1 < source.count else { return false }
        let next = source[i + 1]
        return next == UInt8(ascii: "{") || next == UInt8(ascii: "%") || next == UInt8(ascii: "#")
    }

    /// lstrip_blocks: remove spaces and tabs between the start of the line and a block tag, if
    /// nothing else is on that line before the tag (Jinja's rule, including `line_starting`).
    private static func lstripLine(_ text: inout [UInt8], from start: Int, lineStarting: Bool) {
        var k = text.count
        while k > start && (text[k - 1] == 0x20 || text[k - 1] == 0x09) { k -= 1 }
        let atLineStart = k > start ? text[k - 1] == 0x0A : lineStarting
        if atLineStart { text.removeSubrange(k...) }
    }

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C }

    private func find(_ s: String, from: Int) -> Int? {
        let needle = Array(s.utf8)
        var i = from
        while i + needle.count <= source.count {
            if Array(source[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }
}
