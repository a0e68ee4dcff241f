import Testing
@testable import TridentTokenizer

@Suite("Streaming detokenizer")
struct StreamingDetokenizerTests {
    /// Feeds ids one by one; returns each step's output.
    func stream(_ ids: [Int], _ tok: Tokenizer) -> (steps: [String], final: String) {
        var detok = StreamingDetokenizer(tokenizer: tok)
        let steps = ids.map { detok.append($0) }
        return (steps, detok.finish())
    }

    @Test("emoji split over byte tokens is emitted only when complete")
    func emojiSplit() throws {
        let tok = SmolLM2.tokenizer
        let text = "Hi 👋🏽 and 🇫🇷!"
        let ids = tok.encode(text)
        // The emoji must really be split across tokens for this test to mean anything.
        let partial = ids.filter { String(validating: tok.bytes(of: $0), as: UTF8.self) == nil }
        #expect(!partial.isEmpty, "expected some tokens that are not valid UTF-8 alone")
        let (steps, final) = stream(ids, tok)
        #expect(steps.joined() + final == text)
        #expect(final.isEmpty)
        for step in steps { #expect(!step.contains("\u{FFFD}"), "half a character emitted: \(step.debugDescription)") }
        #expect(steps.contains(""), "some step should have held bytes back")
    }

    @Test("streaming equals decode on every oracle case")
    func matchesDecode() throws {
        let fixture = try TestPaths.fixture("smollm2-encode.json", as: EncodeFixture.self)
        for c in fixture.cases {
            let (steps, final) = stream(c.ids, SmolLM2.tokenizer)
            #expect(steps.joined() + final == SmolLM2.tokenizer.decode(c.ids), "\(c.name)")
        }
    }

    @Test("a truncated character is flushed by finish as U+FFFD")
    func truncated() throws {
        let tok = SmolLM2.tokenizer
        // Byte-level tokens for the first two bytes of "€" (E2 82 AC).
        let byteLevel = ByteLevelMapping()
        let e2 = try #require(tok.id(of: String(byteLevel.scalarForByte[0xE2])))
        let x82 = try #require(tok.id(of: String(byteLevel.scalarForByte[0x82])))
        var detok = StreamingDetokenizer(tokenizer: tok)
        #expect(detok.append(e2) == "")
        #expect(detok.append(x82) == "")
        #expect(detok.hasPendingBytes)
        #expect(detok.finish() == "\u{FFFD}")
        #expect(!detok.hasPendingBytes)
    }

    @Test("complete-prefix rule on raw bytes")
    func completePrefix() {
        let f = StreamingDetokenizer.completePrefixLength
        #expect(f([0x41]) == 1)
        #expect(f([0x41, 0xE2]) == 1)
        #expect(f([0x41, 0xE2, 0x82]) == 1)
        #expect(f([0x41, 0xE2, 0x82, 0xAC]) == 4)
        #expect(f([0xF0, 0x9F, 0x91]) == 0)
        #expect(f([0xF0, 0x9F, 0x91, 0x8B]) == 4)
        #expect(f([0x80, 0x80]) == 2)       // stray continuation bytes are not held
        #expect(f([0xFF]) == 1)             // invalid lead byte is not held
        #expect(f([]) == 0)
    }
}
