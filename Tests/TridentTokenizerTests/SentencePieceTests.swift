import Foundation
import Testing
import TridentFormats
@testable import TridentTokenizer

/// `Tests/Fixtures/tokenizers/expected.json` (see its README): reference ids per fixture.
struct TokenizerFixtureIds: Decodable {
    struct Case: Decodable {
        var text: String
        var ids: [Int]
    }
    var cases: [String: [Case]]
    var special: [String: [Int]]

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        var cases: [String: [Case]] = [:], special: [String: [Int]] = [:]
        for key in c.allKeys {
            if key.stringValue.hasSuffix("+special") {
                special[String(key.stringValue.dropLast(8))] = try c.decode([Int].self, forKey: key)
            } else {
                cases[key.stringValue] = try c.decode([Case].self, forKey: key)
            }
        }
        self.cases = cases
        self.special = special
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static let folder = TestPaths.fixtures.appendingPathComponent("tokenizers")
    static let shared: TokenizerFixtureIds = {
        do {
            return try JSONDecoder().decode(TokenizerFixtureIds.self,
                                            from: Data(contentsOf: folder.appendingPathComponent("expected.json")))
        } catch {
            fatalError("cannot read tokenizers/expected.json: \(error)")
        }
    }()
}

@Suite("SentencePiece vocabularies (GGUF llama) against sentencepiece")
struct SentencePieceTests {
    static func fixture() throws -> Tokenizer {
        try Tokenizer(gguf: GGUFFile(path: TokenizerFixtureIds.folder.appendingPathComponent("spm.gguf").path))
    }

    @Test("a trained vocabulary gives sentencepiece's ids on the multilingual corpus")
    func sentencePieceIds() throws {
        let tok = try Self.fixture()
        let cases = try #require(TokenizerFixtureIds.shared.cases["spm"])
        #expect(cases.count >= 40)
        for c in cases {
            #expect(tok.encode(c.text, addSpecial: false) == c.ids, "\(c.text.debugDescription)")
        }
        // The corpus exercises byte fallback (characters outside the 900-piece vocabulary).
        let byteTokens = Set(tok.vocabulary.tokenTypes.indices.filter { tok.vocabulary.tokenTypes[$0] == .byte })
        #expect(byteTokens.count == 256)
        #expect(cases.filter { !Set($0.ids).isDisjoint(with: byteTokens) }.count >= 5)
    }

    @Test("decode(encode(x)) == x, with and without BOS")
    func roundTrip() throws {
        let tok = try Self.fixture()
        for c in try #require(TokenizerFixtureIds.shared.cases["spm"]) {
            #expect(tok.decode(tok.encode(c.text, addSpecial: false)) == c.text, "\(c.text.debugDescription)")
            #expect(tok.decode(tok.encode(c.text)) == c.text, "\(c.text.debugDescription)")
        }
    }

    @Test("metadata: BOS added by default, space prefix, special tokens after which the prefix repeats")
    func specials() throws {
        let tok = try Self.fixture()
        #expect(tok.vocabulary.addBOS && !tok.vocabulary.addEOS && tok.vocabulary.addSpacePrefix)
        #expect(tok.encode("Hi") == TokenizerFixtureIds.shared.special["spm"])
        // llama.cpp (and Hugging Face's legacy Llama tokenizer) prefix text after a special token too.
        #expect(tok.encode("Hi</s>there", parseSpecial: true) == TokenizerFixtureIds.shared.special["spm-legacy"])
        #expect(!tok.encode("Hi</s>there", parseSpecial: false).contains(try #require(tok.vocabulary.eosId)))
        let toolId = try #require(tok.id(of: "<tool>"))
        #expect(tok.encode("a<tool>b", parseSpecial: false).contains(toolId))      // user-defined: always matched
        #expect(tok.decode([toolId]) == "<tool>")
        #expect(tok.decode([try #require(tok.vocabulary.bosId)]) == "")
        #expect(tok.isEndOfGeneration(try #require(tok.vocabulary.eosId)))
    }

    @Test("50 KB of multilingual text encodes well under 150 ms in release")
    func speed() throws {
        let tok = try Self.fixture()
        let corpus = try #require(TokenizerFixtureIds.shared.cases["spm"]).map(\.text).joined(separator: "\n")
        let text = String(repeating: corpus + "\n", count: 20)
        #expect(text.utf8.count > 45_000)
        var count = 0
        var best = Double.infinity
        for _ in 0..<3 {
            let start = ContinuousClock.now
            count = tok.encode(text).count
            let d = ContinuousClock.now - start
            best = min(best, Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
        }
        #expect(count > 10_000)
        #if DEBUG
        let limit = 5.0      // unoptimised build: only catch pathological slowness
        #else
        let limit = 0.15
        #endif
        print("SentencePiece encode \(text.utf8.count) bytes -> \(count) tokens: \(String(format: "%.1f", best * 1000)) ms")
        #expect(best < limit)
    }

    /// `▁`-spelled vocabulary: the characters, merges with chosen scores, and byte tokens for 'x'.
    static func handMade(scores ab: Float, _ bc: Float) throws -> Tokenizer {
        let tokens = ["<unk>", "<s>", "</s>", "<0x78>", "\u{2581}", "a", "b", "c", "ab", "bc", "\u{2581}a"]
        let types: [TokenType] = [.unknown, .control, .control, .byte] + Array(repeating: .normal, count: 7)
        let scores: [Float] = [0, 0, 0, 0, -1, -1, -1, -1, ab, bc, -9]
        return try Tokenizer(vocabulary: TokenizerVocabulary(
            model: "llama", preTokenizer: "default", tokens: tokens, tokenTypes: types, merges: [],
            bosId: 1, eosId: 2, addBOS: true, scores: scores, unknownId: 0, addSpacePrefix: true))
    }

    @Test("the merge with the highest score goes first, the leftmost on ties")
    func mergeOrder() throws {
        // "▁abc": pairs ▁a (-9), ab, bc.
        #expect(try Self.handMade(scores: -2, -3).encode("abc", addSpecial: false) == [4, 8, 7])    // ▁ ab c
        #expect(try Self.handMade(scores: -3, -2).encode("abc", addSpecial: false) == [10, 9])      // ▁a bc (bc, then ▁a)
        #expect(try Self.handMade(scores: -2, -2).encode("abc", addSpecial: false) == [4, 8, 7])    // tie: leftmost
        // 'x' falls back to its byte token, 'y' (no byte token) to <unk>; both decode.
        let tok = try Self.handMade(scores: -2, -3)
        #expect(tok.encode("xy", addSpecial: false) == [4, 3, 0])
        #expect(tok.decode([1, 4, 3]) == "x")
    }

    @Test("malformed SentencePiece metadata is refused with a clear error")
    func malformed() throws {
        var md: [String: GGUFValue] = [
            "tokenizer.ggml.model": .string("llama"),
            "tokenizer.ggml.tokens": .array([.string("<0xZZ>"), .string("a")]),
            "tokenizer.ggml.token_type": .array([.int32(6), .int32(1)]),
        ]
        #expect(throws: TokenizerError.invalidByteToken(index: 0, text: "<0xZZ>")) {
            try Tokenizer(vocabulary: TokenizerVocabulary(metadata: md))
        }
        md["tokenizer.ggml.scores"] = .array([.float32(0)])
        #expect(throws: TokenizerError.lengthMismatch(key: "tokenizer.ggml.scores", expected: 2, found: 1)) {
            try TokenizerVocabulary(metadata: md)
        }
        md["tokenizer.ggml.scores"] = .array([.float32(0), .string("x")])
        #expect(throws: TokenizerError.wrongMetadataType(key: "tokenizer.ggml.scores[1]", expected: "a float",
                                                         found: "a string")) {
            try TokenizerVocabulary(metadata: md)
        }
    }
}
