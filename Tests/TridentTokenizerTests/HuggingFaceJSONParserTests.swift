import Testing
@testable import TridentTokenizer

@Suite("JSON parser for tokenizer.json")
struct HuggingFaceJSONParserTests {
    func parse(_ s: String) throws -> HuggingFaceJSON { try HuggingFaceJSONParser.parse(Array(s.utf8)) }

    @Test("values, escapes and surrogate pairs")
    func values() throws {
        let v = try parse(#" {"a": [1, -2.5e1, true, false, null], "s": "q\"\\\/\b\f\n\r\t\u00e9\ud83e\udd99", "o": {}} "#)
        #expect(v["a"] == .array([.number(1), .number(-25), .bool(true), .bool(false), .null]))
        #expect(v["s"]?.string == "q\"\\/\u{8}\u{C}\n\r\t\u{E9}\u{1F999}")
        #expect(v["o"] == .object([]))
        #expect(v["missing"] == nil)
    }

    @Test("keys that Swift strings call equal stay apart")
    func canonicallyEquivalentKeys() throws {
        // U+1F77 and U+03AF are canonically equivalent (both are Greek iota with acute/oxia).
        let v = try parse("{\"\u{1F77}\": 1, \"\u{03AF}\": 2}")
        let members = try #require(v.members)
        #expect(members.count == 2)
        #expect(members.map { Array($0.key.unicodeScalars) } == [["\u{1F77}"], ["\u{03AF}"]])
        #expect(v["\u{03AF}"]?.int == 2)
    }

    @Test("malformed input is refused with the byte offset", arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "{\"a\": 1,}", "\"unterminated", "tru", "01x", "[1] 2",
        "\"\\ud800\"", "\"\\x\"", "\"a\u{01}\"", "{1: 2}", "nan",
    ])
    func malformed(_ text: String) {
        #expect(throws: HuggingFaceJSONParser.Failure.self) { try parse(text) }
    }

    @Test("nesting is bounded")
    func depth() throws {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: HuggingFaceJSONParser.Failure.self) { try parse(deep) }
        let ok = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(try parse(ok).array != nil)
    }

    @Test("invalid UTF-8 inside a string is refused")
    func invalidUTF8() {
        #expect(throws: HuggingFaceJSONParser.Failure.self) {
            try HuggingFaceJSONParser.parse([0x22, 0xC3, 0x28, 0x22])
        }
    }
}
