import Testing
import TridentFormats
@testable import TridentTokenizer

@Suite("Vocabulary from metadata and small hand-made vocabularies")
struct VocabularyTests {
    /// A byte-level vocabulary of the 256 byte scalars plus merges and two control tokens.
    static func tinyVocabulary(merges: [String], pre: String = "gpt-2") -> TokenizerVocabulary {
        let byteLevel = ByteLevelMapping()
        var tokens = byteLevel.scalarForByte.map { String($0) }
        var types = [TokenType](repeating: .normal, count: 256)
        for m in merges {
            let parts = m.split(separator: " ", maxSplits: 1).map(String.init)
            if !tokens.contains(parts[0] + parts[1]) { tokens.append(parts[0] + parts[1]); types.append(.normal) }
        }
        tokens += ["<|end|>", "<tool>"]
        types += [.control, .userDefined]
        return TokenizerVocabulary(preTokenizer: pre, tokens: tokens, tokenTypes: types, merges: merges,
                                   bosId: 0, eosId: tokens.count - 2)
    }

    @Test("merges apply by rank, lowest first")
    func mergeOrder() throws {
        // "abc": with a+b ranked first we get [ab, c]; with b+c first [a, bc].
        let first = try Tokenizer(vocabulary: Self.tinyVocabulary(merges: ["a b", "b c"]))
        let abId = try #require(first.id(of: "ab"))
        #expect(first.encode("abc") == [abId, Int(UInt8(ascii: "c"))])
        let second = try Tokenizer(vocabulary: Self.tinyVocabulary(merges: ["b c", "a b"]))
        let bcId = try #require(second.id(of: "bc"))
        #expect(second.encode("abc") == [Int(UInt8(ascii: "a")), bcId])
        // A merge with a space-initial left part ("Ġ" is the space byte).
        let spaced = try Tokenizer(vocabulary: Self.tinyVocabulary(merges: ["Ġ a"]))
        #expect(spaced.encode(" a") == [try #require(spaced.id(of: "Ġa"))])
    }

    @Test("llama3 looks a whole piece up before merging (ignore_merges)")
    func ignoreMerges() throws {
        // Merges alone give [ab, c]; the vocabulary also holds "abc", which llama3 takes directly.
        var v = Self.tinyVocabulary(merges: ["a b", "b c"])
        v.tokens.append("abc")
        v.tokenTypes.append(.normal)
        let abc = v.tokens.count - 1
        v.preTokenizer = "gpt-2"
        let gpt2 = try Tokenizer(vocabulary: v)
        #expect(gpt2.encode("abc") == [try #require(gpt2.id(of: "ab")), 99])
        v.preTokenizer = "llama-bpe"
        let llama3 = try Tokenizer(vocabulary: v)
        #expect(llama3.encode("abc") == [abc])
        #expect(llama3.encode("abcab") == [try #require(llama3.id(of: "ab")), 99, try #require(llama3.id(of: "ab"))])
    }

    @Test("control tokens need parseSpecial, user-defined ones do not")
    func specialMatching() throws {
        let tok = try Tokenizer(vocabulary: Self.tinyVocabulary(merges: []))
        let end = try #require(tok.id(of: "<|end|>")), tool = try #require(tok.id(of: "<tool>"))
        #expect(tok.encode("x<|end|>", parseSpecial: true) == [120, end])
        #expect(!tok.encode("x<|end|>", parseSpecial: false).contains(end))
        #expect(tok.encode("<tool>x", parseSpecial: false) == [tool, 120])
        #expect(tok.decode([tool, end]) == "<tool>")
        #expect(tok.endOfGenerationIds == [end])   // the EOS id; "<|end|>" is also a known marker
    }

    @Test("add BOS / EOS follow the vocabulary flags")
    func addSpecial() throws {
        var v = Self.tinyVocabulary(merges: [])
        v.addBOS = true
        v.addEOS = true
        let tok = try Tokenizer(vocabulary: v)
        #expect(tok.encode("a") == [0, 97, v.eosId!])
        #expect(tok.encode("a", addSpecial: false) == [97])
        #expect(tok.encode("") == [0, v.eosId!])
    }

    @Test("metadata reader accepts the tiny-llama fixture")
    func tinyLlama() throws {
        let file = try GGUFFile(path: TestPaths.fixtures.appendingPathComponent("tiny-llama-f32.gguf").path)
        let tok = try Tokenizer(gguf: file)
        #expect(tok.vocabularySize == 256)
        #expect(tok.preTokenizer == .gpt2)
        let text = "Hello, wörld! 123"
        #expect(tok.decode(tok.encode(text)) == text)
        #expect(tok.encode(text).count == text.utf8.count)   // no merge fires: one token per byte
    }

    @Test("malformed metadata is rejected with the key named")
    func malformed() throws {
        let base: [String: GGUFValue] = [
            "tokenizer.ggml.model": .string("gpt2"), "tokenizer.ggml.pre": .string("gpt-2"),
            "tokenizer.ggml.tokens": .array([.string("a"), .string("b")]),
        ]
        #expect(try TokenizerVocabulary(metadata: base).count == 2)
        var md = base
        md["tokenizer.ggml.tokens"] = nil
        #expect(throws: TokenizerError.missingMetadata(key: "tokenizer.ggml.tokens")) { try TokenizerVocabulary(metadata: md) }
        md = base
        md["tokenizer.ggml.token_type"] = .array([.int32(1)])
        #expect(throws: TokenizerError.lengthMismatch(key: "tokenizer.ggml.token_type", expected: 2, found: 1)) {
            try TokenizerVocabulary(metadata: md)
        }
        md = base
        md["tokenizer.ggml.token_type"] = .array([.int32(1), .int32(9)])
        #expect(throws: TokenizerError.invalidTokenType(index: 1, value: 9)) { try TokenizerVocabulary(metadata: md) }
        md = base
        md["tokenizer.ggml.eos_token_id"] = .uint32(7)
        #expect(throws: TokenizerError.tokenIdOutOfRange(key: "tokenizer.ggml.eos_token_id", id: 7, vocabularySize: 2)) {
            try TokenizerVocabulary(metadata: md)
        }
        md = base
        md["tokenizer.ggml.model"] = .string("bert")
        #expect(throws: TokenizerError.unsupportedModel("bert")) { try Tokenizer(vocabulary: TokenizerVocabulary(metadata: md)) }
        md = base
        md["tokenizer.ggml.pre"] = .string("deepseek")
        #expect(throws: TokenizerError.unsupportedPreTokenizer("deepseek")) { try Tokenizer(vocabulary: TokenizerVocabulary(metadata: md)) }
    }
}
