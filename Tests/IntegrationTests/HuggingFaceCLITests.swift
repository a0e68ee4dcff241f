import Foundation
import Testing

/// `--model DIR` with Hugging Face directories through the CLI (the tiny fixtures of
/// `Tests/Fixtures/architectures`, which carry no tokenizer.json).
@Suite("Hugging Face directories on the command line")
struct HuggingFaceCLITests {
    static func directory(_ name: String) -> String {
        CLIPaths.fixtures.appendingPathComponent("architectures/\(name)-hf").path
    }

    @Test("info describes each architecture's blocks and the safetensors files",
          arguments: [("tiny-llama", "RMSNorm eps 1e-05, gated silu MLP, no biases, RoPE base 10000.0 (halves pairs)"),
                      ("tiny-qwen2", "q/k/v biases"), ("tiny-gpt2", "LayerNorm eps 1e-05, gelu_pytorch_tanh MLP, attention and MLP biases, learned positions"),
                      ("tiny-mistral", "context length:  64")])
    func info(name: String, expected: String) throws {
        let result = try runCLI(["info", "--model", Self.directory(name)])
        #expect(result.status == 0, "\(result.transcript)")
        #expect(result.stdout.contains(expected) && result.stdout.contains("Hugging Face"), "\(result.transcript)")
    }

    @Test("bench model runs a sharded directory on TP 2 x PP 2 (tcp)")
    func bench() throws {
        let result = try runCLI(["bench", "model", "--model", Self.directory("tiny-qwen2"), "--tp", "2", "--pp", "2",
                                 "--backend", "tcp", "--threads", "1", "--prompt-tokens", "8", "--decode-tokens", "4",
                                 "--repetitions", "1", "--json"], timeout: 120)
        #expect(result.status == 0, "\(result.transcript)")
        #expect((try result.lastJSON()["decode_tokens_per_second"] as? Double ?? 0) > 0)
    }

    @Test("perplexity on a directory without tokenizer.json names the missing file in one line")
    func noTokenizer() throws {
        let text = FileManager.default.temporaryDirectory.appendingPathComponent("trident-hf-\(UUID().uuidString).txt")
        try String(repeating: "some text ", count: 50).write(to: text, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: text) }
        let result = try runCLI(["perplexity", "--model", Self.directory("tiny-llama"), "-f", text.path])
        #expect(result.status != 0 && result.stderrLines.count == 1 && result.stderr.contains("tokenizer.json"),
                "\(result.transcript)")
    }

    @Test("train refuses a directory in one line")
    func train() throws {
        let text = FileManager.default.temporaryDirectory.appendingPathComponent("trident-hf-\(UUID().uuidString).txt")
        try String(repeating: "some text ", count: 50).write(to: text, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: text) }
        let result = try runCLI(["train", "--model", Self.directory("tiny-llama"), "--data", text.path, "--seq-len", "8", "--micro-batch", "1", "--steps", "1", "--lr", "0.001"])
        #expect(result.status != 0 && result.stderrLines.count == 1 && result.stderr.contains("Hugging Face directory"),
                "\(result.transcript)")
    }
}
