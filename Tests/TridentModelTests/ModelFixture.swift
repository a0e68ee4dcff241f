import Foundation

/// A tiny random model of one architecture (`Tests/Fixtures/architectures/`, made by
/// `scripts/reference/make_model_fixtures.py`): the same weights as a Hugging Face directory
/// (`<name>-hf/`) and as GGUF (`<name>.gguf`), with the float64 reference logits of every
/// position of `tokens` (checked there against `transformers` in float32).
struct ModelFixture: Decodable, Sendable {
    let tokens: [Int32]
    let vocabulary: Int
    let logits: String

    static let directory = OracleFixture.directory.appendingPathComponent("architectures")

    static func load(_ name: String) throws -> ModelFixture {
        try JSONDecoder().decode(ModelFixture.self, from: Data(contentsOf: directory.appendingPathComponent("\(name).json")))
    }

    /// `[tokens, vocabulary]` float64 reference logits, as float32.
    func referenceLogits() throws -> [Float] {
        let data = try Data(contentsOf: Self.directory.appendingPathComponent(logits))
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    static func path(_ name: String, _ format: ModelFormat) -> String {
        directory.appendingPathComponent(format == .huggingFace ? "\(name)-hf" : "\(name).gguf").path
    }
}

/// How a fixture model is stored.
enum ModelFormat: String, Sendable, CaseIterable, CustomStringConvertible {
    case gguf, huggingFace
    var description: String { rawValue }
}

/// One architecture in one format, for parameterised tests.
struct ModelCase: Sendable, CustomStringConvertible {
    var name: String
    var format: ModelFormat
    var description: String { "\(name) (\(format))" }

    /// Every architecture in both formats: llama F32, mistral F16 (GGUF: F16 matrices), qwen2
    /// BF16 in 3 shards (GGUF: F32), gpt2 F32.
    static let all: [ModelCase] = ["tiny-llama", "tiny-mistral", "tiny-qwen2", "tiny-gpt2"].flatMap { name in
        ModelFormat.allCases.map { ModelCase(name: name, format: $0) }
    }
}
