/// Turns a stream of token ids into text, one id at a time, never emitting half a character.
///
/// Bytes of an incomplete UTF-8 sequence at the end are held back until the tokens that
/// complete it arrive (an emoji is often split over two or more byte tokens). Concatenating
/// every ``append(_:)`` result and then ``finish()`` gives exactly `tokenizer.decode(ids)`.
///
/// ```swift
/// var detok = StreamingDetokenizer(tokenizer: tok)
/// for id in generated { print(detok.append(id), terminator: "") }
/// print(detok.finish())
/// ```
public struct StreamingDetokenizer: Sendable {
    /// The tokenizer whose pieces are decoded.
    public let tokenizer: Tokenizer
    /// Whether control tokens are rendered as their literal text.
    public let renderSpecial: Bool
    /// Bytes received but not yet returned (at most 3: an incomplete character). [0...3]
    private var pending: [UInt8] = []

    public init(tokenizer: Tokenizer, renderSpecial: Bool = false) {
        self.tokenizer = tokenizer
        self.renderSpecial = renderSpecial
    }

    /// Adds one token and returns the text that is now complete (possibly empty).
    /// - Precondition: `id` is inside the vocabulary.
    public mutating func append(_ id: Int) -> String {
        pending.append(contentsOf: tokenizer.bytes(of: id, renderSpecial: renderSpecial))
        let complete = Self.completePrefixLength(pending)
        guard complete > 0 else { return "" }
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }

    /// Returns whatever is still held back (an unfinished character becomes U+FFFD) and resets.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Whether bytes are being held back.
    public var hasPendingBytes: Bool { !pending.isEmpty }

    /// Length of the longest prefix of `bytes` that does not end inside a character that later
    /// bytes could still complete. Invalid bytes are not held back (they decode to U+FFFD now).
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        // Look for the lead byte of the last character among the last 3 bytes.
        var i = n - 1
        while i >= 0 && i >= n - 3 {
            let b = bytes[i]
            if b & 0xC0 != 0x80 {                       // not a continuation byte
                let need: Int
                switch b {
                case 0xC2...0xDF: need = 2
                case 0xE0...0xEF: need = 3
                case 0xF0...0xF4: need = 4
                default: return n                       // ASCII or invalid lead: nothing to wait for
                }
                return n - i < need ? i : n
            }
            i -= 1
        }
        return n
    }
}
