import Foundation
import Testing
import TridentFormats
@testable import TridentTokenizer

/// `TokenizerVocabulary.ggufMetadata`: a Hugging Face tokenizer written as GGUF metadata and
/// read back (through a real GGUF file) encodes, decodes and templates as the original does.
@Suite("Hugging Face tokenizers exported as GGUF metadata")
struct VocabularyGGUFExportTests {
    /// A fixture tokenizer: its tokenizer.json, tokenizer_config.json (when there is one) and
    /// the `expected.json` key of its test texts.
    struct Fixture: Sendable, CustomStringConvertible {
        var json: String, config: String?, texts: String
        var description: String { texts }
    }

    static let fixtures = [
        Fixture(json: "bpe-llama3/tokenizer.json", config: "bpe-llama3/tokenizer_config.json", texts: "bpe-llama3"),
        Fixture(json: "bpe-qwen2/tokenizer.json", config: "bpe-qwen2/tokenizer_config.json", texts: "bpe-qwen2"),
        Fixture(json: "spm-legacy.json", config: nil, texts: "spm-legacy"),
    ]

    static func huggingFace(_ f: Fixture) throws -> TokenizerVocabulary {
        let folder = TokenizerFixtureIds.folder
        return try TokenizerVocabulary(huggingFaceJSON: Data(contentsOf: folder.appendingPathComponent(f.json)),
                                       config: try f.config.map { try Data(contentsOf: folder.appendingPathComponent($0)) })
    }

    /// Writes `vocabulary.ggufMetadata(paddedTo:)` into a tensorless GGUF file and reads it back.
    static func roundTrip(_ vocabulary: TokenizerVocabulary, paddedTo size: Int? = nil) throws -> Tokenizer {
        var writer = GGUFWriter()
        for (key, value) in try vocabulary.ggufMetadata(paddedTo: size) { writer.add(key, value) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vocab-export-\(UUID().uuidString).gguf").path
        try writer.write(to: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try Tokenizer(gguf: GGUFFile(path: path))
    }

    /// Qwen 2 normalizes to NFC and GGUF cannot say so (llama.cpp does not normalize either):
    /// its texts are compared in NFC form, where both agree.
    @Test("every test text encodes to the same ids and decodes to the same text", arguments: fixtures)
    func encodesAsTheDirectory(fixture: Fixture) throws {
        let source = try Self.huggingFace(fixture)
        let original = try Tokenizer(vocabulary: source)
        let exported = try Self.roundTrip(source)
        let cases = try #require(TokenizerFixtureIds.shared.cases[fixture.texts])
        #expect(cases.count >= 40)
        var checked = 0
        for c in cases {
            let text = source.normalizeNFC ? c.text.precomposedStringWithCanonicalMapping : c.text
            for (parse, add) in [(false, false), (true, true)] {
                let ids = original.encode(text, parseSpecial: parse, addSpecial: add)
                #expect(exported.encode(text, parseSpecial: parse, addSpecial: add) == ids, "\(text.debugDescription)")
                #expect(exported.decode(ids, renderSpecial: true) == original.decode(ids, renderSpecial: true))
                checked += 1
            }
        }
        #expect(checked == 2 * cases.count)
    }

    @Test("model, pre-tokenizer, special ids, BOS/EOS flags and chat template are kept", arguments: fixtures)
    func keepsSettings(fixture: Fixture) throws {
        let source = try Self.huggingFace(fixture)
        let back = try Self.roundTrip(source).vocabulary
        #expect(back.model == source.model)
        #expect(back.tokens == source.tokens && back.tokenTypes == source.tokenTypes)
        #expect(back.bosId == source.bosId && back.eosId == source.eosId && back.padId == source.padId)
        #expect(back.unknownId == source.unknownId)
        #expect(back.addBOS == source.addBOS && back.addEOS == source.addEOS)
        #expect(back.chatTemplate == source.chatTemplate)
        #expect(PreTokenizer(name: back.preTokenizer) == (source.model == "llama" ? .bpeDefault : PreTokenizer(name: source.preTokenizer)))
        if source.model == "gpt2" { #expect(back.merges == source.merges) }
    }

    @Test("llama.cpp's names: llama-bpe for the Llama 3 regex, qwen2, default for SentencePiece")
    func preTokenizerNames() throws {
        #expect(try Self.huggingFace(Self.fixtures[0]).ggufPreTokenizerName == "llama-bpe")
        #expect(try Self.huggingFace(Self.fixtures[1]).ggufPreTokenizerName == "qwen2")
        #expect(try Self.huggingFace(Self.fixtures[2]).ggufPreTokenizerName == "default")
        #expect(try Self.huggingFace(Self.fixtures[0]).ggufLosses.isEmpty)
        #expect(try Self.huggingFace(Self.fixtures[1]).ggufLosses.contains { $0.contains("NFC") })
    }

    /// SentencePiece scores from merge ranks: the token the first merge forms scores -1, and
    /// every merged token scores higher than tokens formed by later merges.
    @Test("SentencePiece scores follow the merge ranks")
    func scoresFromMerges() throws {
        let source = try Self.huggingFace(Self.fixtures[2])
        #expect(source.scores.isEmpty)
        let scores = source.ggufScores()
        let first = source.merges[0].split(separator: " ", maxSplits: 1).joined()
        #expect(scores[try #require(source.tokens.firstIndex(of: first))] == -1)
        let second = source.merges[1].split(separator: " ", maxSplits: 1).joined()
        #expect(scores[try #require(source.tokens.firstIndex(of: second))] == -2)
        #expect(source.tokenTypes.indices.filter { source.tokenTypes[$0] == .control }.allSatisfy { scores[$0] == 0 })
    }

    @Test("the token list is padded to the embedding rows with unused tokens; a larger one is refused")
    func padding() throws {
        let source = try Self.huggingFace(Self.fixtures[0])
        let back = try Self.roundTrip(source, paddedTo: source.count + 3)
        #expect(back.vocabularySize == source.count + 3)
        #expect(back.vocabulary.tokens.suffix(3) == ["[PAD\(source.count)]", "[PAD\(source.count + 1)]", "[PAD\(source.count + 2)]"])
        #expect(back.vocabulary.tokenTypes.suffix(3).allSatisfy { $0 == .unused })
        #expect(back.encode("hello world", addSpecial: false) == (try Tokenizer(vocabulary: source)).encode("hello world", addSpecial: false))
        #expect(throws: TokenizerError.self) { try source.ggufMetadata(paddedTo: source.count - 1) }
    }
}
