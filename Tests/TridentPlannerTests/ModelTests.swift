import Foundation
import Testing
@testable import TridentPlanner

@Suite struct ModelTests {
    @Test func llama2_7bParameterCountIsThePublishedOne() {
        // Llama-2-7b-hf: 6,738,415,616 parameters.
        #expect(Fixture.llama7b.parameterCount == 6_738_415_616)
        #expect(Fixture.llama7b.parameterCount == Fixture.llama7b.configuration.parameterCount)
    }

    @Test func llama2_70bParameterCount() {
        // Llama-2-70b-hf: 68,976,648,192 parameters.
        #expect(Fixture.llama70b.parameterCount == 68_976_648_192)
    }

    @Test func gpt3UsesTwoMatrixGELUMLP() {
        let gpt3 = ModelPreset.gpt3_175b.model
        #expect(gpt3.mlp == .gelu)
        // 12 L h^2 (4 h^2 attention + 8 h^2 MLP) + norms, plus the tied embedding.
        let h = 12288, layers = 96
        let expected = layers * (12 * h * h + 2 * h) + 50257 * h + h
        #expect(gpt3.parameterCount == expected)
        #expect(abs(Double(gpt3.parameterCount) / 175e9 - 1) < 0.01)
    }

    @Test func smollmIsTiedAndGrouped() {
        let c = Fixture.smol.configuration
        #expect(c.tiedEmbeddings && c.headDimension == 64 && c.groupSize == 3)
        #expect(abs(Double(Fixture.smol.parameterCount) - 134.5e6) < 0.5e6)
    }

    @Test func resolvesPresetsAndRejectsOthers() throws {
        #expect(try ModelSource.resolve("LLaMA-70B") == Fixture.llama70b)
        #expect(throws: ModelSourceError.self) { try ModelSource.resolve("models/does-not-exist.gguf") }
        #expect(throws: ModelSourceError.self) { try ModelSource.resolve("llama-8b") }
    }

    @Test func readsTheConfigurationOfAGGUFFile() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/tiny-llama-q4_1.gguf").path
        let model = try ModelSource.resolve(path)
        #expect(model.configuration.hiddenSize == 64 && model.configuration.layerCount == 2)
        #expect(model.configuration.headCount == 4 && model.configuration.kvHeadCount == 2)
        #expect(model.configuration.tiedEmbeddings)
    }
}
