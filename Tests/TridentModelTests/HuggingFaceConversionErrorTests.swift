import Foundation
import Testing
import TridentFormats
@testable import TridentModel

/// The q/k row order and the one-line refusals of `HuggingFaceToGGUF`.
@Suite("Hugging Face to GGUF: row permutation and bad directories")
struct HuggingFaceConversionErrorTests {
    /// convert_hf_to_gguf's `reshape(heads, 2, d/2).swapaxes(1, 2)`, computed the other way
    /// round: source row `r` of head `h` (offset `o = j * d/2 + i`) lands on `h * d + 2i + j`.
    @Test("q/k rows follow reshape(heads, 2, d/2).swapaxes(1, 2)", arguments: [(8, 2), (16, 4), (12, 1), (64, 4)])
    func permutation(rows: Int, heads: Int) {
        let d = rows / heads
        var expected = [Int](repeating: -1, count: rows)
        for r in 0..<rows {
            let h = r / d, j = (r % d) / (d / 2), i = r % (d / 2)
            expected[h * d + 2 * i + j] = r
        }
        #expect(QKRowPermutation.sourceRows(rows: rows, heads: heads) == expected)
        if rows == 8 { #expect(expected == [0, 2, 1, 3, 4, 6, 5, 7]) }
    }

    @Test("apply moves whole rows of bytes")
    func applyMovesRows() {
        let order: [UInt8] = [0, 2, 1, 3, 4, 6, 5, 7]
        let bytes: [UInt8] = (0..<8).flatMap { (row: UInt8) -> [UInt8] in [row, row + 100] }
        let expected: [UInt8] = order.flatMap { (row: UInt8) -> [UInt8] in [row, row + 100] }
        let out = bytes.withUnsafeBytes { QKRowPermutation.apply($0, rows: 8, heads: 2) }
        #expect(out == expected)
    }

    /// A copy of `tiny-llama-hf` with `config.json` edited by `edit`.
    static func withEditedLlama(_ edit: (inout [String: Any]) -> Void, _ body: (String) throws -> Void) throws {
        let source = ModelFixture.path("tiny-llama", .huggingFace)
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("hf-bad-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: source, toPath: copy)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let configPath = copy + "/config.json"
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: configPath))) as? [String: Any])
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configPath))
        try body(copy)
    }

    static func conversionError(_ directory: String) -> String? {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("hf-bad-\(UUID().uuidString).gguf").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        do {
            try HuggingFaceToGGUF.convert(directory: HuggingFaceDirectory(path: directory), output: out)
            return nil
        } catch {
            #expect(!FileManager.default.fileExists(atPath: out), "nothing is written")
            return "\(error)"
        }
    }

    @Test("bad directories fail with one line naming the tensor or key", arguments: [
        ("intermediate_size", 96, "model.layers.0.mlp.gate_proj.weight"),   // the first misshapen tensor
        ("num_hidden_layers", 3, "model.layers.2.input_layernorm.weight"),
        ("num_attention_heads", 3, "head"),
    ])
    func badConfig(key: String, value: Int, mentions: String) throws {
        try Self.withEditedLlama({ $0[key] = value }) { directory in
            let message = try #require(Self.conversionError(directory))
            #expect(message.contains(mentions), "\(message)")
            #expect(!message.contains("\n"))
        }
    }

    /// Qwen2's q/k/v biases have no place in a Llama without `attention_bias`.
    @Test("a tensor the configuration has no place for is refused with one line")
    func strayTensor() throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("hf-stray-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: ModelFixture.path("tiny-qwen2", .huggingFace), toPath: copy)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let configURL = URL(fileURLWithPath: copy + "/config.json")
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any])
        config["model_type"] = "llama"
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        let message = try #require(Self.conversionError(copy))
        #expect(message.contains("model.layers.0.self_attn.k_proj.bias") && message.contains("no GGUF name"), "\(message)")
    }

    @Test("GPT-2 and unsupported RoPE scaling (yarn) are refused with one line")
    func unsupported() throws {
        let gpt2 = try #require(Self.conversionError(ModelFixture.path("tiny-gpt2", .huggingFace)))
        #expect(gpt2.contains("gpt2") && gpt2.contains("llama, mistral, qwen2"), "\(gpt2)")
        try Self.withEditedLlama({ $0["rope_scaling"] = ["type": "yarn", "factor": 2.0] as [String: Any] }) { directory in
            let message = try #require(Self.conversionError(directory))
            #expect(message.contains("rope_scaling") && message.contains("'yarn'"), "\(message)")
        }
    }
}
