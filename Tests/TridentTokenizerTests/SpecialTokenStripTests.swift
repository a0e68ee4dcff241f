import Foundation
import Testing
import TridentFormats
@testable import TridentTokenizer

@Suite("Special tokens that swallow neighbouring whitespace (lstrip / rstrip)")
struct SpecialTokenStripTests {
    static func llama3(left: Bool, right: Bool) throws -> (Tokenizer, Int) {
        var v = try TokenizerVocabulary(
            huggingFaceJSON: Data(contentsOf: TokenizerFixtureIds.folder.appendingPathComponent("bpe-llama3/tokenizer.json")))
        let eot = try #require(v.tokens.firstIndex(of: "<|eot_id|>"))
        if left { v.stripLeft = [eot] }
        if right { v.stripRight = [eot] }
        return (try Tokenizer(vocabulary: v), eot)
    }

    @Test("whitespace before (lstrip) and after (rstrip) a matched token is dropped, only on its side")
    func strips() throws {
        let text = "Hi \t<|eot_id|> \n there"
        for (left, right) in [(false, false), (true, false), (false, true), (true, true)] {
            let (tok, eot) = try Self.llama3(left: left, right: right)
            let want = tok.encode(left ? "Hi" : "Hi \t", addSpecial: false) + [eot]
                + tok.encode(right ? "there" : " \n there", addSpecial: false)
            #expect(tok.encode(text, parseSpecial: true, addSpecial: false) == want, "lstrip \(left) rstrip \(right)")
        }
    }

    @Test("tokenizer.json lstrip / rstrip flags are read")
    func fromJSON() throws {
        let json = #"""
        {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": []},
         "added_tokens": [{"id": 2, "content": "<x>", "special": true, "lstrip": true, "rstrip": false},
                          {"id": 3, "content": "<y>", "special": false, "rstrip": true}],
         "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false}, "decoder": {"type": "ByteLevel"}}
        """#
        let v = try TokenizerVocabulary(huggingFaceJSON: Data(json.utf8))
        #expect(v.stripLeft == [2] && v.stripRight == [3])
        #expect(v.tokenTypes[2] == .control && v.tokenTypes[3] == .userDefined)
    }

    @Test("Phi-3 GGUF: special tokens and </s> strip on the right, except <unk> <s> <|endoftext|>")
    func phi3() throws {
        let names = ["<unk>", "<s>", "</s>", "a", "<|endoftext|>", "<|user|>", "<|end|>"]
        let types: [Int32] = [2, 3, 3, 1, 3, 4, 3]
        var md: [String: GGUFValue] = [
            "tokenizer.ggml.model": .string("llama"),
            "tokenizer.ggml.tokens": .array(names.map { .string($0) }),
            "tokenizer.ggml.token_type": .array(types.map { .int32($0) }),
            "general.name": .string("Phi3"),
        ]
        #expect(try TokenizerVocabulary(metadata: md).stripRight == [2, 5, 6])
        md["general.name"] = .string("Llama")
        #expect(try TokenizerVocabulary(metadata: md).stripRight.isEmpty)
    }
}
