import Foundation
import Testing
import TridentCollectives
import TridentEngine
import TridentFormats
import TridentKernels
@testable import TridentModel

/// Llama blocks with RoPE scaling and with biases, from Hugging Face directories and GGUF files,
/// against a float64 reference (`Tests/Fixtures/architectures/README.md` says how they were made):
/// - `tiny-llama3rope`: `rope_type: llama3` (factor 8, low 1, high 8, original context 1024,
///   base 5e5, head dimension 16), whose divisors `[1, 1, 1.31, 6.73, 8, 8, 8, 8]` cover the
///   high-frequency, smoothed and low-frequency branches; the HF `config.json` is in Llama 3.1's
///   own form (`rope_theta` + `rope_scaling`), the GGUF holds `rope_freqs.weight`.
/// - `tiny-llama-linear`: `rope_type: linear`, factor 4 (transformers 5's `rope_parameters`;
///   GGUF `llama.rope.scaling.type/factor`).
/// - `tiny-llama-bias`: `attention_bias` and `mlp_bias` (q/k/v/o and gate/up/down biases).
/// 48 positions each; plain RoPE moves the reference logits by 1.45 (llama3) and 6.4 (linear).
@Suite("RoPE scaling and Llama biases against the float64 reference")
struct RopeScalingFixtureTests {
    static let names = ["tiny-llama3rope", "tiny-llama-linear", "tiny-llama-bias"]
    static let cases: [ModelCase] = names.flatMap { name in ModelFormat.allCases.map { ModelCase(name: name, format: $0) } }

    /// As `ArchitectureFixtureTests.tolerance`: float32 vs float64 on the same weights, logits
    /// up to about 5 (measured at most 4.2e-6 here).
    static let tolerance: Float = 3e-5

    @Test("prefill logits of all 48 positions equal the reference", arguments: cases)
    func prefill(model: ModelCase) throws {
        let fixture = try ModelFixture.load(model.name)
        let runner = try singleRankRunner(ModelFixture.path(model.name, model.format))
        let logits = try runner.forward(tokens: fixture.tokens, slot: 0, start: 0, logits: .all)
        #expect(fixture.tokens.count >= 40)
        let difference = maxAbsDifference(logits, try fixture.referenceLogits())
        print("\(model): prefill logits vs float64 reference, max abs difference \(difference)")
        #expect(difference < Self.tolerance, "\(model)")
    }

    @Test("decoding the last 5 positions through the KV cache equals the reference", arguments: cases)
    func decode(model: ModelCase) throws {
        let fixture = try ModelFixture.load(model.name)
        let runner = try singleRankRunner(ModelFixture.path(model.name, model.format))
        let split = fixture.tokens.count - 5
        _ = try runner.forward(tokens: Array(fixture.tokens[..<split]), slot: 0, start: 0, logits: .none)
        var logits: [Float] = []
        for position in split ..< fixture.tokens.count {
            logits += try runner.forward(tokens: [fixture.tokens[position]], slot: 0, start: position, logits: .last)
        }
        let expected = try fixture.referenceLogits().suffix(5 * fixture.vocabulary)
        #expect(maxAbsDifference(logits, Array(expected)) < Self.tolerance, "\(model)")
    }

    static let grids: [GridCase] = [GridCase(tensor: 2), GridCase(tensor: 3), GridCase(pipeline: 2),
                                    GridCase(tensor: 2, pipeline: 2)]

    /// Every rank applies the whole factor vector to its own heads (TP 3 splits 4 heads 2 + 1 + 1).
    @Test("TP 2, TP 3, PP 2 and TP2 x PP2 equal one rank", arguments: cases, grids)
    func layoutsEqualOneRank(model: ModelCase, grid: GridCase) throws {
        let fixture = try ModelFixture.load(model.name)
        let path = ModelFixture.path(model.name, model.format)
        let tokens = fixture.tokens
        let single = try withParallelRuntime(path, layout: GridCase().layout) {
            try $0.forward(tokens: tokens, slot: 0, start: 0, logits: .all)
        }
        let got = try withParallelRuntime(path, layout: grid.layout) {
            try $0.forward(tokens: tokens, slot: 0, start: 0, logits: .all)
        }
        #expect(maxAbsDifference(got, single) < 2e-5, "\(model) on \(grid)")
        #expect(maxAbsDifference(got, try fixture.referenceLogits()) < Self.tolerance, "\(model) on \(grid)")
    }

    /// The tests above could fail: the same GGUF without its scaling gives other logits.
    @Test("the GGUF without rope_freqs.weight / without its linear scaling misses the reference by > 0.5")
    func withoutScalingDiffers() throws {
        for (name, rewrite) in [("tiny-llama3rope", GGUFRewrite(dropping: [ModelConfiguration.ropeFrequencyFactorsTensor])),
                                ("tiny-llama-linear", GGUFRewrite(metadata: ["llama.rope.scaling.type": nil,
                                                                             "llama.rope.scaling.factor": nil]))] {
            let fixture = try ModelFixture.load(name)
            try rewrite.withFile(ModelFixture.path(name, .gguf)) { path in
                #expect(try ModelFiles(path: path).configuration.ropeScaling == .none)
                let logits = try singleRankRunner(path).forward(tokens: fixture.tokens, slot: 0, start: 0, logits: .all)
                #expect(maxAbsDifference(logits, try fixture.referenceLogits()) > 0.5, "\(name)")
            }
        }
    }

    @Test("both formats read the same scaling and biases")
    func configurations() throws {
        func configuration(_ name: String, _ format: ModelFormat) throws -> ModelConfiguration {
            try ModelFiles(path: ModelFixture.path(name, format)).configuration
        }
        // The GGUF's factors are llama.cpp's converter formula (float64, stored as F32).
        let stored = try #require(try configuration("tiny-llama3rope", .gguf).ropeScaling.frequencyFactors)
        let computed = try #require(try configuration("tiny-llama3rope", .huggingFace).ropeScaling.frequencyFactors)
        #expect(stored.count == 8 && computed.count == 8)
        #expect(maxAbsDifference(stored, computed) < 1e-6)
        #expect(stored.first == 1 && stored.last == 8 && stored.contains { $0 > 1 && $0 < 8 }, "all three branches")
        for format in ModelFormat.allCases {
            let linear = try configuration("tiny-llama-linear", format)
            #expect(linear.ropeScaling == RopeScaling(linearFactor: 4) && linear.ropeTheta == 10_000)
            #expect(try configuration("tiny-llama3rope", format).ropeTheta == 500_000)
            let bias = try configuration("tiny-llama-bias", format)
            #expect(bias.attentionBias && bias.attentionOutputBias && bias.mlpBias && bias.ropeScaling == .none, "\(format)")
            #expect(!(try configuration("tiny-llama3rope", format)).attentionBias)
        }
    }

    @Test("trident quantize's conversion writes rope_freqs.weight (F32, kept by q8_0) and the linear keys")
    func quantizedConversionKeepsScaling() throws {
        let temporary = FileManager.default.temporaryDirectory
        let quantized = temporary.appendingPathComponent("rope-q8-\(UUID().uuidString).gguf").path
        defer { try? FileManager.default.removeItem(atPath: quantized) }
        try HuggingFaceToGGUFTests.withConverted(ModelFixture.path("tiny-llama3rope", .huggingFace)) {
            _ = try ModelQuantizer.quantize(input: $0, output: quantized, scheme: .q8_0, threads: 2)
        }
        let file = try GGUFFile(path: quantized)
        let info = try #require(file.tensor(named: ModelConfiguration.ropeFrequencyFactorsTensor))
        #expect(info.type == .f32 && info.shape == [8])
        let reference = try GGUFFile(path: ModelFixture.path("tiny-llama3rope", .gguf))
        #expect(maxAbsDifference(try file.floats(named: info.name), try reference.floats(named: info.name)) < 1e-6)
        try HuggingFaceToGGUFTests.withConverted(ModelFixture.path("tiny-llama-linear", .huggingFace)) { path in
            let linear = try GGUFFile(path: path)
            #expect(linear.metadata["llama.rope.scaling.type"]?.string == "linear")
            #expect(linear.metadata["llama.rope.scaling.factor"]?.double == 4)
            #expect(linear.tensor(named: ModelConfiguration.ropeFrequencyFactorsTensor) == nil)
        }
    }
}

/// A copy of a GGUF file with tensors dropped or replaced (by F32 vectors) and metadata keys
/// set or removed (nil), written to a temporary file for the length of `withFile`.
struct GGUFRewrite {
    var dropping: Set<String> = []
    var replacing: [String: [Float]] = [:]
    var metadata: [String: GGUFValue?] = [:]

    func withFile<T>(_ source: String, _ body: (String) throws -> T) throws -> T {
        let file = try GGUFFile(path: source)
        var writer = GGUFWriter()
        for key in file.metadataKeys where key != "general.alignment" && metadata[key] == nil {
            writer.add(key, file.metadata[key]!)
        }
        for case let (key, value?) in metadata { writer.add(key, value) }
        for info in file.tensors where !dropping.contains(info.name) {
            if let values = replacing[info.name] {
                writer.addTensor(name: info.name, shape: [values.count], type: .f32, bytes: values.withUnsafeBytes { Array($0) })
            } else {
                writer.addTensor(name: info.name, shape: info.shape, type: info.type, bytes: Array(file.bytes(of: info)))
            }
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rewrite-\(UUID().uuidString).gguf").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try writer.write(to: path)
        return try body(path)
    }
}
