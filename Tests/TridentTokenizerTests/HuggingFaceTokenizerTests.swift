import Foundation
import Testing
@testable import TridentTokenizer

@Suite("Hugging Face tokenizer.json against the tokenizers library")
struct HuggingFaceTokenizerTests {
    static let folder = TokenizerFixtureIds.folder

    static func data(_ name: String) throws -> Data { try Data(contentsOf: folder.appendingPathComponent(name)) }

    static func check(_ tok: Tokenizer, _ fixture: String) throws {
        let cases = try #require(TokenizerFixtureIds.shared.cases[fixture])
        #expect(cases.count >= 40)
        for c in cases {
            #expect(tok.encode(c.text, addSpecial: false) == c.ids, "\(fixture): \(c.text.debugDescription)")
        }
    }

    @Test("byte-level BPE with Llama 3's pre-tokenizer, ignore_merges, added tokens and config",
          arguments: ["bpe-llama3", "bpe-qwen2"])
    func byteLevel(_ name: String) throws {
        let tok = try Tokenizer.load(huggingFaceDirectory: Self.folder.appendingPathComponent(name))
        try Self.check(tok, name)
        #expect(tok.vocabulary.model == "gpt2")
        #expect(tok.preTokenizer == (name == "bpe-qwen2" ? .qwen2 : .llama3))
        #expect(tok.vocabulary.normalizeNFC == (name == "bpe-qwen2"))
        #expect(tok.vocabulary.ignoreMerges == (name == "bpe-llama3"))
        // Config: BOS / EOS by name, BOS added as the TemplateProcessing post-processor says.
        #expect(tok.vocabulary.bosId == tok.id(of: "<|begin_of_text|>"))
        #expect(tok.vocabulary.eosId == tok.id(of: "<|end_of_text|>"))
        #expect(tok.encode("Hi") == TokenizerFixtureIds.shared.special[name])
        #expect(tok.vocabulary.chatTemplate?.contains("messages") == true)
        // Added tokens: special ones are control tokens, "<tool>" is user-defined.
        let eot = try #require(tok.id(of: "<|eot_id|>")), tool = try #require(tok.id(of: "<tool>"))
        #expect(tok.vocabulary.tokenTypes[eot] == .control && tok.vocabulary.tokenTypes[tool] == .userDefined)
        #expect(tok.encode("x<|eot_id|>", parseSpecial: true, addSpecial: false).last == eot)
        #expect(tok.isEndOfGeneration(eot))
        for c in try #require(TokenizerFixtureIds.shared.cases[name]) where name == "bpe-llama3" {
            #expect(tok.decode(tok.encode(c.text)) == c.text)
        }
    }

    @Test("SentencePiece-style tokenizer.json (byte fallback; Prepend+Replace or Metaspace)",
          arguments: ["spm-legacy", "spm-metaspace"])
    func sentencePiece(_ name: String) throws {
        let tok = try Tokenizer(huggingFaceJSON: Self.data(name + ".json"))
        try Self.check(tok, name)
        #expect(tok.vocabulary.model == "llama")
        // Hugging Face always matches special added tokens; Trident does with parseSpecial.
        let bos = try #require(tok.id(of: "<s>"))
        let withBOS = [bos] + tok.encode("Hi</s>there", parseSpecial: true, addSpecial: false)
        #expect(withBOS == TokenizerFixtureIds.shared.special[name])
        for c in try #require(TokenizerFixtureIds.shared.cases[name]) where !c.text.hasPrefix(" ") || name == "spm-legacy" {
            #expect(tok.decode(tok.encode(c.text, addSpecial: false)) == c.text, "\(c.text.debugDescription)")
        }
    }

    static func json(_ body: String) -> Data { Data(body.utf8) }

    @Test("malformed or unsupported tokenizer.json is refused, naming the file and the field")
    func refused() throws {
        #expect(throws: TokenizerError.invalidJSON(file: "tokenizer.json", reason: "missing object 'model'")) {
            try Tokenizer(huggingFaceJSON: Self.json(#"{"version": "1.0"}"#))
        }
        #expect {
            try Tokenizer(huggingFaceJSON: Self.json(#"{"model": {"type": "BPE", "vocab": {"a": 0}"#))
        } throws: { error in
            guard case .invalidJSON(let file, _) = error as? TokenizerError else { return false }
            return file == "tokenizer.json"
        }
        #expect(throws: TokenizerError.unsupportedComponent(file: "tokenizer.json", path: "model.type",
                                                            found: "'WordPiece'", supported: "BPE")) {
            try Tokenizer(huggingFaceJSON: Self.json(#"{"model": {"type": "WordPiece", "vocab": {"a": 0}}}"#))
        }
        let unknownRegex = #"""
        {"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
         "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
           {"type": "Split", "pattern": {"Regex": "\\w+|\\s+"}, "behavior": "Isolated", "invert": false},
           {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}]},
         "decoder": {"type": "ByteLevel"}}
        """#
        #expect(throws: TokenizerError.unsupportedComponent(file: "tokenizer.json", path: "pre_tokenizer.pretokenizers[0].pattern",
                                                            found: #"regex '\w+|\s+'"#,
                                                            supported: "the GPT-2, Llama 3 and Qwen 2 regexes")) {
            try Tokenizer(huggingFaceJSON: Self.json(unknownRegex))
        }
        #expect(throws: TokenizerError.invalidJSON(file: "tokenizer.json",
                                                   reason: #"'model.merges[0]' = 3.0, expected "a b" or ["a", "b"]"#)) {
            try Tokenizer(huggingFaceJSON: Self.json(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [3]}, "decoder": {"type": "ByteLevel"}}"#))
        }
        #expect(throws: TokenizerError.invalidJSON(file: "tokenizer.json", reason: "'model.vocab' should be an object of token -> id")) {
            try Tokenizer(huggingFaceJSON: Self.json(#"{"model": {"type": "BPE", "vocab": [1]}, "decoder": {"type": "ByteLevel"}}"#))
        }
        let missing = Self.folder.appendingPathComponent("no-such-dir")
        #expect {
            try Tokenizer.load(huggingFaceDirectory: missing)
        } throws: { error in
            guard case .invalidJSON(let file, let reason) = error as? TokenizerError else { return false }
            return file.hasSuffix("no-such-dir/tokenizer.json") && reason.hasPrefix("cannot be read")
        }
    }
}
