import Testing
@testable import TridentTokenizer

/// The regex-sequence pre-tokenizers on hand-worked examples (llama.cpp's conformance files and
/// `scripts/reference/tokenizer_diff_vs_llama.py` check them on real vocabularies).
@Suite("Regex-sequence pre-tokenizers (falcon, default, deepseek)")
struct RegexSequencePreTokenizerTests {
    @Test("falcon takes ` with punctuation; llama.cpp's default does not, and splits number runs first")
    func falconAndDefault() throws {
        let falcon = try #require(PreTokenizer(name: "falcon"))
        #expect(falcon.split("x`*y 1234") == ["x", "`*", "y", " ", "123", "4"])
        let byDefault = try #require(PreTokenizer(name: "default"))
        #expect(byDefault.split("x`*y 1234") == ["x", "`", "*", "y", " ", "123", "4"])
    }

    @Test("deepseek-coder: newlines alone, space + letters, space + punctuation, CJK runs, single digits")
    func deepseekCoder() throws {
        let p = try #require(PreTokenizer(name: "deepseek-coder"))
        #expect(p.split("ab cd\n!? 12你好") == ["ab", " cd", "\n", "!?", " ", "1", "2", "你好"])
    }

    @Test("deepseek-llm: trailing spaces split off, number runs whole")
    func deepseekLLM() throws {
        let p = try #require(PreTokenizer(name: "deepseek-llm"))
        #expect(p.split("Hi 123  ") == ["Hi", " ", "123", "  "])
    }
}
