import Foundation
import Testing
@testable import TridentTokenizer

@Suite("SmolLM2 tokenizer vs oracle")
struct SmolLM2EncodeTests {
    static let fixture = try! TestPaths.fixture("smollm2-encode.json", as: EncodeFixture.self)

    @Test("ids match the oracle", arguments: fixture.cases.map(\.name))
    func idsMatchOracle(name: String) throws {
        let c = try #require(Self.fixture.cases.first { $0.name == name })
        let ids = SmolLM2.tokenizer.encode(c.text, parseSpecial: c.parseSpecial)
        #expect(ids == c.ids, "\(name): \(c.text.debugDescription)")
    }

    @Test("decode restores the text the oracle decodes", arguments: fixture.cases.map(\.name))
    func decodeMatchesOracle(name: String) throws {
        let c = try #require(Self.fixture.cases.first { $0.name == name })
        #expect(SmolLM2.tokenizer.decode(c.ids) == c.decoded)
        if !c.parseSpecial {
            #expect(SmolLM2.tokenizer.decode(c.ids) == c.text, "round trip of \(name)")
        }
    }

    @Test("special tokens render only when asked")
    func renderSpecial() {
        let tok = SmolLM2.tokenizer
        let ids = tok.encode("<|im_start|>user\nHi<|im_end|>", parseSpecial: true)
        #expect(ids.first == 1 && ids.last == 2)
        #expect(tok.decode(ids) == "user\nHi")
        #expect(tok.decode(ids, renderSpecial: true) == "<|im_start|>user\nHi<|im_end|>")
    }

    @Test("end-of-generation ids are {0, 2, 4}")
    func endOfGeneration() {
        #expect(SmolLM2.tokenizer.endOfGenerationIds == Set(Self.fixture.eog))
        #expect(SmolLM2.tokenizer.endOfGenerationIds == [0, 2, 4])
        #expect(SmolLM2.tokenizer.vocabulary.addBOS == false)
        #expect(SmolLM2.tokenizer.vocabulary.bosId == 1)
    }

    @Test("LICENSE.txt tokenizes exactly like the oracle")
    func licenseText() throws {
        let text = try String(contentsOf: TestPaths.license, encoding: .utf8)
        let ids = SmolLM2.tokenizer.encode(text)
        #expect(ids.count == Self.fixture.license.count)
        #expect(ids == Self.fixture.license.ids)
        #expect(SmolLM2.tokenizer.decode(ids) == text)
    }
}
