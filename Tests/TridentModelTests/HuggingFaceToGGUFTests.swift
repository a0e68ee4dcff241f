import Foundation
import Testing
import TridentCollectives
import TridentEngine
import TridentFormats
@testable import TridentModel

/// `HuggingFaceToGGUF`: the tiny Llama (F32), Mistral (F16) and Qwen2 (BF16, 3 shards, tied)
/// directories converted to GGUF hold exactly the tensors of the fixtures' GGUF copies (laid
/// out by `scripts/reference/make_model_fixtures.py` as convert_hf_to_gguf.py does, q/k rows
/// permuted in numpy), and give the directory's logits; bad directories fail with one line.
@Suite("Hugging Face directories converted to GGUF")
struct HuggingFaceToGGUFTests {
    /// Also Llama with llama3 / linear RoPE scaling and with biases (`RopeScalingFixtureTests`).
    static let architectures = ["tiny-llama", "tiny-mistral", "tiny-qwen2", "tiny-llama3rope", "tiny-llama-linear",
                                "tiny-llama-bias"]

    static func convert(_ directory: String, to path: String) throws -> HuggingFaceToGGUF.Result {
        try HuggingFaceToGGUF.convert(directory: HuggingFaceDirectory(path: directory), output: path)
    }

    static func withConverted<T>(_ directory: String, _ body: (String) throws -> T) throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hf2gguf-\(UUID().uuidString).gguf").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try convert(directory, to: path)
        return try body(path)
    }

    @Test("every tensor equals the fixture GGUF's (names, shapes, values; q/k rows permuted)", arguments: architectures)
    func tensorsEqualTheReferenceLayout(name: String) throws {
        try Self.withConverted(ModelFixture.path(name, .huggingFace)) { path in
            let ours = try GGUFFile(path: path)
            let reference = try GGUFFile(path: ModelFixture.path(name, .gguf))
            #expect(Set(ours.tensors.map(\.name)) == Set(reference.tensors.map(\.name)))
            #expect((ours.tensor(named: "output.weight") == nil) == (name == "tiny-qwen2"), "tied embeddings: no output")
            for tensor in reference.tensors {
                let mine = try #require(ours.tensor(named: tensor.name))
                #expect(mine.shape == tensor.shape, "\(tensor.name)")
                #expect(try ours.floats(named: tensor.name) == reference.floats(named: tensor.name), "\(name) \(tensor.name)")
                if tensor.shape.count == 1 { #expect(mine.type == .f32, "vectors are F32") }
            }
            #expect(try ours.string("general.architecture") == (name == "tiny-qwen2" ? "qwen2" : "llama"))
        }
    }

    @Test("the converted file's configuration equals the directory's (with GGUF RoPE pairing)", arguments: architectures)
    func configurationMatches(name: String) throws {
        try Self.withConverted(ModelFixture.path(name, .huggingFace)) { path in
            let directory = try HuggingFaceDirectory(path: ModelFixture.path(name, .huggingFace))
            var expected = try ModelConfiguration(huggingFace: directory.config)
            var got = try ModelConfiguration(gguf: GGUFFile(path: path))
            #expect(got.ropePairing == (name == "tiny-qwen2" ? .halves : .adjacent))
            expected.ropePairing = .adjacent
            got.ropePairing = .adjacent
            #expect(got == expected)
        }
    }

    /// Same weights, same arithmetic: the f32 runs differ only by summation order.
    @Test("logits of the converted GGUF equal the directory's within 1e-5", arguments: architectures)
    func logitsMatchTheDirectory(name: String) throws {
        let fixture = try ModelFixture.load(name)
        let directory = ModelFixture.path(name, .huggingFace)
        let expected = try singleRankRunner(directory).forward(tokens: fixture.tokens, slot: 0, start: 0, logits: .all)
        let got = try Self.withConverted(directory) {
            try singleRankRunner($0).forward(tokens: fixture.tokens, slot: 0, start: 0, logits: .all)
        }
        #expect(got.count == expected.count)
        #expect(maxAbsDifference(got, expected) < 1e-5, "\(name)")
        #expect(maxAbsDifference(got, try fixture.referenceLogits()) < ArchitectureFixtureTests.tolerance)
    }

    /// Quantizing the converted file gives exactly what quantizing the fixture's GGUF copy
    /// gives (same f32 values, same blocks), so the q8_0 logits are equal; against the f32
    /// directory they move by the Q8_0 rounding: measured 0.12-0.15 on logits up to about 5
    /// (14 positions), up to 0.28 on the 48-position RoPE-scaling fixtures.
    @Test("quantized to q8_0: logits equal the quantized reference layout's, within 0.4 of the directory's",
          arguments: architectures)
    func q8_0Logits(name: String) throws {
        let fixture = try ModelFixture.load(name)
        let directory = ModelFixture.path(name, .huggingFace)
        let expected = try singleRankRunner(directory).forward(tokens: fixture.tokens, slot: 0, start: 0, logits: .all)
        let temporary = FileManager.default.temporaryDirectory
        let ours = temporary.appendingPathComponent("hf2gguf-q8-\(UUID().uuidString).gguf").path
        let reference = temporary.appendingPathComponent("hf2gguf-q8-ref-\(UUID().uuidString).gguf").path
        defer { for path in [ours, reference] { try? FileManager.default.removeItem(atPath: path) } }
        let summary = try Self.withConverted(directory) {
            try ModelQuantizer.quantize(input: $0, output: ours, scheme: .q8_0, threads: 2)
        }
        _ = try ModelQuantizer.quantize(input: ModelFixture.path(name, .gguf), output: reference, scheme: .q8_0, threads: 2)
        #expect(summary.typeCounts["Q8_0", default: 0] >= 7 * 2)
        let got = try singleRankRunner(ours).forward(tokens: fixture.tokens, slot: 0, start: 0, logits: .all)
        let layout = try singleRankRunner(reference).forward(tokens: fixture.tokens, slot: 0, start: 0, logits: .all)
        #expect(got == layout, "\(name)")
        let difference = maxAbsDifference(got, expected)
        #expect(difference > 0 && difference < 0.4, "\(name): \(difference)")
    }

    /// The complete directories of `Tests/Fixtures/hf-quantize` (llama F32, qwen2 BF16 tied,
    /// mistral F16 with a padded vocabulary), converted without their tokenizers.
    @Test("complete fixtures: logits of the converted GGUF equal the directory's within 1e-5",
          arguments: ["llama-bpe", "qwen2-bpe", "mistral-spm"])
    func completeFixtures(name: String) throws {
        let directory = OracleFixture.directory.appendingPathComponent("hf-quantize/\(name)").path
        let tokens: [Int32] = [1, 5, 42, 300, 650, 7, 99, 500]
        let expected = try singleRankRunner(directory).forward(tokens: tokens, slot: 0, start: 0, logits: .all)
        let got = try Self.withConverted(directory) {
            try singleRankRunner($0).forward(tokens: tokens, slot: 0, start: 0, logits: .all)
        }
        #expect(got.count == expected.count && got.count >= tokens.count * 701)
        #expect(maxAbsDifference(got, expected) < 1e-5, "\(name)")
    }
}
