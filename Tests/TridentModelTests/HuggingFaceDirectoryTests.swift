import Foundation
import Testing
import TridentFormats
import TridentModel

/// Malformed Hugging Face directories are refused with one-line errors naming what was
/// looked for; nothing crashes.
@Suite("Hugging Face directories: malformed input")
struct HuggingFaceDirectoryTests {
    /// A scratch copy of fixture directory `name`, removed afterwards.
    static func withCopy<R>(of name: String, _ body: (String) throws -> R) throws -> R {
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("trident-hf-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: ModelFixture.path(name, .huggingFace), toPath: scratch)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        return try body(scratch)
    }

    /// The error `body` throws, as text.
    static func message(_ body: () throws -> Void) -> String? {
        do { try body() } catch { return "\(error)" }
        return nil
    }

    /// Rewrites key `key` of the copy's `config.json`.
    static func setConfig(_ directory: String, _ key: String, _ value: Any) throws {
        let path = directory + "/config.json"
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        object[key] = value
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
    }

    @Test("a directory without config.json names the marker file")
    func noConfig() throws {
        let text = try Self.withCopy(of: "tiny-llama") { dir in
            try FileManager.default.removeItem(atPath: dir + "/config.json")
            return Self.message { _ = try ModelFiles(path: dir) }
        }
        #expect(text?.contains("config.json") == true && text?.contains("GGUF") == true, "\(text ?? "no error")")
    }

    @Test("a directory without weights names both files looked for")
    func noWeights() throws {
        let text = try Self.withCopy(of: "tiny-llama") { dir in
            try FileManager.default.removeItem(atPath: dir + "/model.safetensors")
            return Self.message { _ = try ModelFiles(path: dir) }
        }
        #expect(text?.contains("model.safetensors.index.json") == true, "\(text ?? "no error")")
    }

    @Test("a missing shard is named")
    func missingShard() throws {
        let text = try Self.withCopy(of: "tiny-qwen2") { dir in
            try FileManager.default.removeItem(atPath: dir + "/model-00002-of-00003.safetensors")
            return Self.message { _ = try ModelFiles(path: dir) }
        }
        #expect(text?.contains("model-00002-of-00003.safetensors") == true && text?.contains("missing") == true,
                "\(text ?? "no error")")
    }

    @Test("an index placing a tensor in the wrong shard, or outside the directory, is refused")
    func badIndex() throws {
        for (from, to) in [("model-00001-of-00003", "model-00003-of-00003"), ("model-00001-of-00003", "../x")] {
            let text = try Self.withCopy(of: "tiny-qwen2") { dir in
                let path = dir + "/model.safetensors.index.json"
                let index = try String(contentsOfFile: path, encoding: .utf8)
                try index.replacingOccurrences(of: "\"model.embed_tokens.weight\": \"\(from)",
                                               with: "\"model.embed_tokens.weight\": \"\(to)")
                    .write(toFile: path, atomically: true, encoding: .utf8)
                return Self.message { _ = try ModelFiles(path: dir) }
            }
            #expect(text?.contains("index") == true, "\(to): \(text ?? "no error")")
        }
    }

    @Test("a tensor whose shape disagrees with config.json is named with both shapes")
    func shapeMismatch() throws {
        let text = try Self.withCopy(of: "tiny-llama") { dir in
            try Self.setConfig(dir, "intermediate_size", 96)
            let files = try ModelFiles(path: dir)
            let plan = try ShardingPlan(configuration: files.configuration, tensorParallelSize: 1, rank: 0)
            return Self.message {
                _ = try LlamaWeights.load(from: files, plan: plan, layers: 0 ..< 2, includeEmbedding: true,
                                          includeHead: true, copySlices: false)
            }
        }
        #expect(text?.contains("model.layers.0.mlp.gate_proj.weight") == true && text?.contains("[128, 64]") == true
                && text?.contains("[96, 64]") == true, "\(text ?? "no error")")
    }

    @Test("unsupported architectures and settings are refused by name")
    func unsupported() throws {
        let cases: [(String, Any, String)] = [("model_type", "falcon", "falcon"),
                                              ("rope_scaling", ["type": "yarn", "factor": 2.0], "rope_type 'yarn'"),
                                              ("hidden_act", "swiglu_oai", "swiglu_oai"),
                                              ("num_attention_heads", "four", "num_attention_heads")]
        for (key, value, expected) in cases {
            let text = try Self.withCopy(of: "tiny-llama") { dir in
                try Self.setConfig(dir, key, value)
                return Self.message { _ = try ModelFiles(path: dir) }
            }
            #expect(text?.contains(expected) == true, "\(key): \(text ?? "no error")")
        }
    }

    @Test("a truncated shard is refused when opened")
    func truncatedShard() throws {
        let text = try Self.withCopy(of: "tiny-llama") { dir in
            let path = dir + "/model.safetensors"
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            try data.prefix(data.count - 100).write(to: URL(fileURLWithPath: path))
            return Self.message { _ = try ModelFiles(path: dir) }
        }
        #expect(text?.contains("model.safetensors") == true && text?.contains("data section") == true,
                "\(text ?? "no error")")
    }

    /// safetensors does not promise aligned data: a 2-byte tensor first shifts every F32 tensor
    /// off its 4-byte boundary; they are copied into aligned memory and give the same logits.
    @Test("tensors off their element alignment load and give the reference logits")
    func misalignedTensors() throws {
        let fixture = try ModelFixture.load("tiny-llama")
        let logits = try Self.withCopy(of: "tiny-llama") { dir in
            let path = dir + "/model.safetensors"
            let original = try SafetensorsFile(path: path)
            var writer = SafetensorsWriter()
            writer.addTensor(name: "a_padding", dtype: .bf16, shape: [1], bytes: [0, 0])
            for tensor in original.tensors {
                writer.addTensor(name: tensor.name, dtype: tensor.dtype, shape: tensor.shape,
                                 bytes: Array(original.bytes(of: tensor)))
            }
            try writer.write(to: path)
            let shifted = try SafetensorsFile(path: path)
            #expect(shifted.tensors.allSatisfy { $0.name == "a_padding" || $0.fileOffset % 4 == 2 })
            let runner = try singleRankRunner(dir)
            return try runner.forward(tokens: fixture.tokens, slot: 0, start: 0, logits: .all)
        }
        #expect(maxAbsDifference(logits, try fixture.referenceLogits()) < ArchitectureFixtureTests.tolerance)
    }
}

/// `config.json` numbers 0 and 1 are integers (Foundation on Linux bridges every NSNumber 0 or 1
/// to `Bool`); JSON's `true` and `false` are not.
@Suite("Hugging Face config.json integers")
struct HuggingFaceConfigIntegerTests {
    /// The fixture's config.json text with `"key": value` replaced by the given literal JSON text
    /// (edited as text: writing through JSONSerialization would turn 1 into true on Linux).
    static func config(_ changes: [String: String]) throws -> Data {
        let path = ModelFixture.path("tiny-llama", .huggingFace) + "/config.json"
        var text = try String(contentsOfFile: path, encoding: .utf8)
        for (key, value) in changes {
            let pattern = try NSRegularExpression(pattern: "\"\(key)\": *[0-9a-z]+")
            let range = NSRange(text.startIndex..., in: text)
            #expect(pattern.numberOfMatches(in: text, range: range) == 1, "\(key) in the fixture")
            text = pattern.stringByReplacingMatches(in: text, range: range, withTemplate: "\"\(key)\": \(value)")
        }
        return Data(text.utf8)
    }

    @Test("num_key_value_heads 1 and num_hidden_layers 1 are read as 1; true is refused")
    func zeroAndOne() throws {
        let c = try ModelConfiguration(huggingFace: Self.config(["num_key_value_heads": "1", "num_hidden_layers": "1"]))
        #expect(c.kvHeadCount == 1 && c.layerCount == 1)
        #expect(throws: (any Error).self) { try ModelConfiguration(huggingFace: Self.config(["num_hidden_layers": "true"])) }
    }
}
