import Foundation
import Testing
import TridentCollectives
import TridentEngine
import TridentModel

/// Llama, Mistral, Qwen2 and GPT-2 blocks, from Hugging Face directories and GGUF files,
/// against a float64 reference, and every layout against one rank.
@Suite("Architectures and formats against the float64 reference")
struct ArchitectureFixtureTests {
    /// float32 arithmetic on the stored weights vs float64 on the same (rounded) weights:
    /// logits reach about 5; measured differences are at most 2.7e-6.
    static let tolerance: Float = 3e-5

    @Test("prefill logits of every position equal the reference", arguments: ModelCase.all)
    func prefill(model: ModelCase) throws {
        let fixture = try ModelFixture.load(model.name)
        let runner = try singleRankRunner(ModelFixture.path(model.name, model.format))
        let logits = try runner.forward(tokens: fixture.tokens, slot: 0, start: 0, logits: .all)
        let expected = try fixture.referenceLogits()
        #expect(logits.count == expected.count)
        #expect(maxAbsDifference(logits, expected) < Self.tolerance, "\(model)")
    }

    @Test("decoding through the KV cache equals the reference at the last position", arguments: ModelCase.all)
    func decode(model: ModelCase) throws {
        let fixture = try ModelFixture.load(model.name)
        let runner = try singleRankRunner(ModelFixture.path(model.name, model.format))
        let split = fixture.tokens.count - 3
        _ = try runner.forward(tokens: Array(fixture.tokens[..<split]), slot: 0, start: 0, logits: .none)
        var logits: [Float] = []
        for position in split ..< fixture.tokens.count {
            logits = try runner.forward(tokens: [fixture.tokens[position]], slot: 0, start: position, logits: .last)
        }
        let expected = try fixture.referenceLogits().suffix(fixture.vocabulary)
        #expect(maxAbsDifference(logits, Array(expected)) < Self.tolerance, "\(model)")
    }

    static let grids: [GridCase] = [GridCase(tensor: 2), GridCase(tensor: 3), GridCase(pipeline: 2),
                                    GridCase(tensor: 2, pipeline: 2), GridCase(data: 2)]

    /// Tensor parallelism sums partial products in another order (measured: at most 2.4e-6).
    @Test("TP 2, TP 3, PP 2, TP2 x PP2 and DP 2 equal one rank",
          arguments: ModelCase.all, grids)
    func layoutsEqualOneRank(model: ModelCase, grid: GridCase) throws {
        let fixture = try ModelFixture.load(model.name)
        let path = ModelFixture.path(model.name, model.format)
        let tokens = fixture.tokens
        let single = try withParallelRuntime(path, layout: GridCase().layout) {
            try $0.forward(tokens: tokens, slot: 0, start: 0, logits: .all)
        }
        let got = try withParallelRuntime(path, layout: grid.layout, pipelineLayers: grid.pipelineLayers) {
            try $0.forward(tokens: tokens, slot: 0, start: 0, logits: .all)
        }
        #expect(got.count == single.count)
        #expect(maxAbsDifference(got, single) < 2e-5, "\(model) on \(grid)")
        #expect(maxAbsDifference(got, try fixture.referenceLogits()) < Self.tolerance, "\(model) on \(grid)")
    }

    @Test("each format's configuration is read as the architecture needs")
    func configurations() throws {
        for model in ModelCase.all {
            let c = try ModelFiles(path: ModelFixture.path(model.name, model.format)).configuration
            #expect(c.vocabularySize == 256 && c.hiddenSize == 64 && c.layerCount == 2, "\(model)")
            switch model.name {
            case "tiny-gpt2":
                #expect(c.normalization == .layer && c.activation == .geluTanh && !c.gatedMLP && c.mlpBias
                        && c.attentionOutputBias && c.positionEncoding == .learned && c.contextLength == 64)
            case "tiny-qwen2":
                #expect(c.attentionBias && !c.attentionOutputBias && c.ropePairing == .halves && c.ropeTheta == 1e6)
            case "tiny-mistral":
                // Hugging Face: the 64-token sliding window caps the 256-position context.
                #expect(c.contextLength == (model.format == .huggingFace ? 64 : 256))
            default:
                #expect(c.ropePairing == (model.format == .huggingFace ? .halves : .adjacent) && !c.tiedEmbeddings)
            }
        }
    }
}
