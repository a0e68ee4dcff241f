import Foundation
import Testing
@testable import TridentTokenizer

/// Real vocabularies (Llama 2's SentencePiece, Phi-3's, GPT-2's and SmolLM2's byte-level BPE) as Hugging Face
/// tokenizer.json, made by `scripts/reference/hf_vocab_crosscheck.py` from llama.cpp's vocab
/// files (not committed): Trident's tokenizer.json reader against the ids of `tokenizers` on
/// llama.cpp's conformance texts. Runs when `TRIDENT_HF_CROSSCHECK_DIR` names that output.
@Suite("tokenizer.json of real vocabularies against tokenizers (TRIDENT_HF_CROSSCHECK_DIR)",
       .enabled(if: ProcessInfo.processInfo.environment["TRIDENT_HF_CROSSCHECK_DIR"] != nil,
                "set TRIDENT_HF_CROSSCHECK_DIR to the output of scripts/reference/hf_vocab_crosscheck.py"))
struct HuggingFaceCrossCheckTests {
    struct Case: Decodable {
        var text: String
        var ids: [Int]
    }

    static let sizes = ["llama-spm": 32000, "phi-3": 32064, "gpt-2": 50257, "smollm2": 49152]

    @Test("every case of every vocabulary", arguments: ["llama-spm", "phi-3", "gpt-2", "smollm2"])
    func vocabulary(_ name: String) throws {
        let dir = URL(fileURLWithPath: try #require(ProcessInfo.processInfo.environment["TRIDENT_HF_CROSSCHECK_DIR"]))
            .appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: dir.path) || name != "smollm2" else { return }   // optional
        let start = Date()
        let tok = try Tokenizer.load(huggingFaceDirectory: dir)
        let seconds = Date().timeIntervalSince(start)
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: dir.appendingPathComponent("expected.json")))
        var passed = 0
        for c in cases {
            let got = tok.encode(c.text, addSpecial: false)
            #expect(got == c.ids, "\(name): \(c.text.debugDescription)")
            if got == c.ids { passed += 1 }
        }
        // No vocabulary entry is lost (Llama 2 has canonically equivalent pairs such as U+1F77 / U+03AF):
        // ids missing from the file would be filled with unused placeholders.
        #expect(!tok.vocabulary.tokenTypes.contains(.unused))
        #expect(tok.vocabulary.tokens.count == Self.sizes[name])
        print("| \(name) | \(cases.count) | \(passed) | loaded in \(String(format: "%.2f", seconds)) s |")
    }
}
