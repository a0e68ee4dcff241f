import Testing
@testable import TridentTokenizer

@Suite("Pre-tokenizers vs the oracle's regexes")
struct PreTokenizerTests {
    struct Sample: Decodable {
        var text: String
        var pieces: [String]
    }
    static let fixture = try! TestPaths.fixture("pretokenizer-pieces.json", as: [String: [Sample]].self)

    @Test("pieces match Python regex splitting", arguments: ["gpt-2", "smollm", "llama3", "qwen2"])
    func piecesMatch(name: String) throws {
        let pre = try #require(PreTokenizer(name: name))
        let samples = try #require(Self.fixture[name])
        #expect(!samples.isEmpty)
        for sample in samples {
            #expect(pre.split(sample.text) == sample.pieces, "\(name): \(sample.text.debugDescription)")
        }
    }

    @Test("aliases map to the same scanners")
    func aliases() {
        #expect(PreTokenizer(name: "llama-bpe") == .llama3)
        #expect(PreTokenizer(name: "starcoder") == .digitsThenGPT2)
        #expect(PreTokenizer(name: "no-such-pre") == nil)
    }

    @Test("llama3 groups digits by three, qwen2 one by one")
    func digitGrouping() {
        #expect(PreTokenizer.llama3.split("1234567") == ["123", "456", "7"])
        #expect(PreTokenizer.qwen2.split("123") == ["1", "2", "3"])
        #expect(PreTokenizer.gpt2.split(" 1234") == [" 1234"])
        #expect(PreTokenizer.digitsThenGPT2.split(" 12") == [" ", "1", "2"])
    }
}
