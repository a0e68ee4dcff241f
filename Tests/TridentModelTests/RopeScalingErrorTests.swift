import Foundation
import Testing
import TridentCollectives
import TridentEngine
import TridentFormats
import TridentKernels
@testable import TridentModel

/// Bad or unsupported RoPE scaling and bias layouts are refused with one line naming the key
/// or tensor, from GGUF files (the fixtures rewritten) and from `config.json` objects.
@Suite("RoPE scaling and Llama bias errors")
struct RopeScalingErrorTests {
    /// The error `body` throws, as one line (nil when it does not throw a `ModelLoadingError`).
    static func message(_ body: () throws -> Void) -> String? {
        do { try body() } catch let error as ModelLoadingError { return error.description } catch { return "\(error)" }
        return nil
    }

    static func ggufMessage(_ name: String, _ rewrite: GGUFRewrite) throws -> String? {
        try rewrite.withFile(ModelFixture.path(name, .gguf)) { path in
            Self.message {
                let world = LocalCommunicator.makeGroup(size: 1)[0]
                _ = try RankRuntime.load(path: path, world: world, threads: 1, capacity: 16)
            }
        }
    }

    static let badFactors: [(String, [Float])] = [
        ("wrong length", [1, 1, 1.3, 6.7, 8, 8, 8]), ("zero", [1, 1, 0, 6.7, 8, 8, 8, 8]),
        ("negative", [1, 1, 1.3, -6.7, 8, 8, 8, 8]), ("NaN", [1, .nan, 1.3, 6.7, 8, 8, 8, 8]),
        ("infinite", [1, 1, 1.3, 6.7, 8, 8, 8, .infinity])]

    @Test("a bad rope_freqs.weight is refused naming the tensor", arguments: badFactors.map(\.0))
    func badFrequencyFactors(kind: String) throws {
        let values = Self.badFactors.first { $0.0 == kind }!.1
        let rewrite = GGUFRewrite(replacing: [ModelConfiguration.ropeFrequencyFactorsTensor: values])
        let text = try #require(try Self.ggufMessage("tiny-llama3rope", rewrite))
        #expect(text.contains("rope_freqs.weight") && !text.contains("\n"), "\(text)")
        #expect(text.contains(kind == "wrong length" ? "expected shape [8]" : "finite and > 0"), "\(text)")
    }

    @Test("unsupported GGUF scaling types name the type and the supported list", arguments: ["yarn", "longrope", "su"])
    func unsupportedGGUFType(type: String) throws {
        let rewrite = GGUFRewrite(metadata: ["llama.rope.scaling.type": .string(type)])
        let text = try #require(try Self.ggufMessage("tiny-llama-linear", rewrite))
        #expect(text.contains("llama.rope.scaling.type '\(type)'") && text.contains("supported: none, linear"), "\(text)")
    }

    @Test("a GGUF attention factor, a negative linear factor and an output-only bias are refused")
    func otherGGUFErrors() throws {
        let attention = try Self.ggufMessage("tiny-llama-linear", GGUFRewrite(metadata: ["llama.rope.scaling.attn_factor": .float32(2)]))
        #expect(attention?.contains("attn_factor") == true, "\(attention ?? "no error")")
        let negative = try Self.ggufMessage("tiny-llama-linear", GGUFRewrite(metadata: ["llama.rope.scaling.factor": .float32(-4)]))
        #expect(negative?.contains("llama.rope.scaling.factor") == true, "\(negative ?? "no error")")
        let qkv = Set((0 ..< 2).flatMap { i in ["attn_q", "attn_k", "attn_v"].map { "blk.\(i).\($0).bias" } })
        let outputOnly = try Self.ggufMessage("tiny-llama-bias", GGUFRewrite(dropping: qkv))
        #expect(outputOnly?.contains("output-only attention bias") == true, "\(outputOnly ?? "no error")")
        let missing = try Self.ggufMessage("tiny-llama-bias", GGUFRewrite(dropping: ["blk.1.ffn_down.bias"]))
        #expect(missing?.contains("blk.1.ffn_down.bias") == true, "\(missing ?? "no error")")
    }

    /// A Llama `config.json` with `extra` merged in.
    static func huggingFace(_ extra: [String: Any]) throws -> ModelConfiguration {
        var object: [String: Any] = ["model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
                                     "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
                                     "vocab_size": 256, "max_position_embeddings": 4096, "rope_theta": 10000.0]
        object.merge(extra) { $1 }
        return try ModelConfiguration(huggingFace: JSONSerialization.data(withJSONObject: object))
    }

    @Test("config.json: unsupported rope types and bad llama3 / linear parameters are refused with one line")
    func huggingFaceErrors() throws {
        let cases: [([String: Any], String)] = [
            (["rope_scaling": ["rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 1024]],
             "rope_type 'yarn' is not supported (supported: default, linear, llama3)"),
            (["rope_scaling": ["type": "dynamic", "factor": 2.0]], "rope_type 'dynamic'"),
            (["rope_parameters": ["rope_type": "longrope", "rope_theta": 10000.0]], "rope_type 'longrope'"),
            (["rope_scaling": ["rope_type": "llama3", "factor": 8.0, "low_freq_factor": 4.0, "high_freq_factor": 4.0,
                               "original_max_position_embeddings": 1024]], "must be greater than low_freq_factor"),
            (["rope_scaling": ["rope_type": "llama3", "low_freq_factor": 1.0, "high_freq_factor": 4.0]], "'factor'"),
            (["rope_scaling": ["type": "linear", "factor": 0.0]], "'factor' must be a positive number"),
            (["rope_scaling": "linear"], "'rope_scaling' must be an object"),
        ]
        for (extra, expected) in cases {
            let text = try #require(Self.message { _ = try Self.huggingFace(extra) }, "\(extra)")
            #expect(text.contains(expected) && !text.contains("\n"), "\(text)")
        }
    }

    @Test("config.json: default, null, linear (old and new spelling) and llama3 are read")
    func huggingFaceAccepted() throws {
        #expect(try Self.huggingFace(["rope_scaling": NSNull()]).ropeScaling == .none)
        #expect(try Self.huggingFace(["rope_parameters": ["rope_type": "default", "rope_theta": 5e5]]).ropeScaling == .none)
        #expect(try Self.huggingFace(["rope_scaling": ["type": "linear", "factor": 2.0]]).ropeScaling
                == RopeScaling(linearFactor: 2))
        #expect(try Self.huggingFace(["rope_parameters": ["rope_type": "linear", "factor": 3.0, "rope_theta": 1e4]]).ropeScaling
                == RopeScaling(linearFactor: 3))
        // original_max_position_embeddings defaults to max_position_embeddings (4096 here).
        let llama3: [String: Any] = ["rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0]
        let implicit = try Self.huggingFace(["rope_scaling": llama3]).ropeScaling
        var explicit = llama3
        explicit["original_max_position_embeddings"] = 4096
        #expect(implicit == (try Self.huggingFace(["rope_scaling": explicit]).ropeScaling))
        #expect(implicit.frequencyFactors == RopeScaling.llama3Factors(base: 10_000, headDim: 16, factor: 8, lowFrequencyFactor: 1,
                                                                       highFrequencyFactor: 4, originalContext: 4096))
    }

    @Test("Trident's own JSON keys: rope_frequency_scaling round-trips and is validated")
    func ownKeys() throws {
        var c = ModelConfiguration(hiddenSize: 64, intermediateSize: 128, layerCount: 2, headCount: 4, kvHeadCount: 2,
                                   vocabularySize: 256)
        c.ropeScaling = RopeScaling(frequencyFactors: [1, 1, 2, 4, 8, 8, 8, 8], linearFactor: 2)
        let data = try JSONEncoder().encode(c)
        #expect(try ModelConfiguration(json: data, where: "c.json") == c)
        c.ropeScaling = RopeScaling(frequencyFactors: [1, 2, 3])
        let text = Self.message { _ = try ModelConfiguration(json: JSONEncoder().encode(c), where: "c.json") }
        #expect(text?.contains("expected 8") == true, "\(text ?? "no error")")
    }
}
