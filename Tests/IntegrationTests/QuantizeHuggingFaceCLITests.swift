import Foundation
import Testing

/// `trident quantize DIR OUT` on complete tiny Hugging Face directories
/// (`Tests/Fixtures/hf-quantize`, see its README): the GGUF it writes tokenizes as the
/// directory does, keeps the chat template, loads and generates; bad directories fail with one line.
@Suite("trident quantize on Hugging Face directories", .serialized, .enabled(if: CLIPaths.binary != nil, "needs a built trident"))
struct QuantizeHuggingFaceCLITests {
    static let models = ["llama-bpe", "qwen2-bpe", "mistral-spm"]
    static func directory(_ name: String) -> String { CLIPaths.fixtures.appendingPathComponent("hf-quantize/\(name)").path }

    /// Texts with a special token, digits, accents, CJK and whitespace runs (all in NFC).
    static let texts = ["Hello world, 12345 héllo  <tool> x", "<|begin_of_text|>日本語 テキスト\n\n  tabs\tand 3.14159",
                        "<s>[INST] what's up? [/INST] 🙂 café"]

    @Test("q4_k_m: the GGUF tokenizes every text as the directory does and generates", arguments: models)
    func quantizesAndTokenizesAlike(name: String) throws {
        try withTemporaryDirectory { folder in
            let out = folder.appendingPathComponent("\(name).gguf").path
            let quantize = try runCLI(["quantize", Self.directory(name), out, "--type", "q4_k_m"])
            #expect(quantize.status == 0, "\(quantize.transcript)")
            #expect(quantize.stdout.contains("Hugging Face"), "\(quantize.stdout)")
            #expect(quantize.stdout.contains("blk.1.attn_q.weight"))
            let left = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            #expect(!left.contains { $0.contains(".hf-") }, "the intermediate file is removed")
            for text in Self.texts {
                let fromDirectory = try runCLI(["tokenize", "-m", Self.directory(name), "--text", text])
                let fromGGUF = try runCLI(["tokenize", "-m", out, "--text", text])
                #expect(fromDirectory.status == 0 && fromGGUF.status == 0, "\(fromGGUF.transcript)")
                #expect(fromGGUF.stdout == fromDirectory.stdout, "\(name): \(text.debugDescription)")
            }
            let generate = try runCLI(["generate", "--model", out, "--prompt", "Hello", "--max-tokens", "6", "--json"])
            #expect(generate.status == 0, "\(generate.transcript)")
            #expect(QuantizeCLITests.jsonInts(try generate.lastJSON()["tokens"]).count == 6)
        }
    }

    @Test("a directory whose weights disagree with config.json fails with one line naming the tensor")
    func misshapenDirectoryIsRefused() throws {
        try withTemporaryDirectory { folder in
            let copy = folder.appendingPathComponent("bad").path
            try FileManager.default.copyItem(atPath: Self.directory("llama-bpe"), toPath: copy)
            let configURL = URL(fileURLWithPath: copy + "/config.json")
            var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any])
            config["intermediate_size"] = 96
            try JSONSerialization.data(withJSONObject: config).write(to: configURL)
            let out = folder.appendingPathComponent("o.gguf").path
            let result = try runCLI(["quantize", copy, out, "--type", "q8_0"])
            CLITests.expectCleanFailure(result, mentioning: [copy, "mlp.gate_proj.weight"])
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["bad"], "nothing is left behind")
        }
    }
}
