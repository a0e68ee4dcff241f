import Foundation
import Testing

/// `trident tokenize` on the SentencePiece GGUF and Hugging Face tokenizer.json fixtures
/// (`Tests/Fixtures/tokenizers`), against the ids `sentencepiece` / `tokenizers` gave.
@Suite("trident tokenize with SentencePiece and tokenizer.json vocabularies",
       .enabled(if: CLIPaths.binary != nil, "needs a built trident (.build/release/trident or .build/debug/trident)"))
struct TokenizeVocabularyCLITests {
    static let folder = CLIPaths.fixtures.appendingPathComponent("tokenizers")

    /// The reference ids of `text` in `fixture` (from expected.json).
    static func expected(_ fixture: String, _ text: String) throws -> [Int] {
        let data = try Data(contentsOf: folder.appendingPathComponent("expected.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cases = try #require(root[fixture] as? [[String: Any]])
        let match = try #require(cases.first { ($0["text"] as? String) == text })
        return try #require(match["ids"] as? [NSNumber]).map(\.intValue)
    }

    static func ids(_ result: CLIResult) -> [Int] {
        result.stdout.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
    }

    @Test("a SentencePiece GGUF: BOS, then sentencepiece's ids")
    func sentencePieceGGUF() throws {
        let text = "Emoji 🦙🚀 👋🏽 👩‍👩‍👧 🇫🇷 ❤️"
        let result = try runCLI(["tokenize", "--model", Self.folder.appendingPathComponent("spm.gguf").path, "--text", text])
        #expect(result.status == 0, "\(result.transcript)")
        #expect(Self.ids(result) == [1] + (try Self.expected("spm", text)))
    }

    @Test("a Hugging Face directory with tokenizer.json and tokenizer_config.json")
    func huggingFaceDirectory() throws {
        let text = "def f(x):\n    return x**2  # square\n"
        let result = try runCLI(["tokenize", "--model", Self.folder.appendingPathComponent("bpe-llama3").path, "--text", text])
        #expect(result.status == 0, "\(result.transcript)")
        let ids = Self.ids(result)
        #expect(ids.first == 0)                                   // <|begin_of_text|> from the post-processor
        #expect(Array(ids.dropFirst()) == (try Self.expected("bpe-llama3", text)))
    }

    @Test("a directory without tokenizer.json is refused in one line")
    func directoryWithoutTokenizer() throws {
        let result = try runCLI(["tokenize", "--model", Self.folder.path, "--text", "x"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("is a directory"), "\(result.transcript)")
    }
}
