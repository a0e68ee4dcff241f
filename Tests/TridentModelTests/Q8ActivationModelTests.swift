import Foundation
import Testing
import TridentEngine
import TridentKernels
import TridentModel

/// The accuracy contract of 8-bit activations for Q8_0 weights (`ActivationPrecision.current`,
/// `float32` unless TRIDENT_Q8_ACTIVATIONS=1): against the float64 oracle, greedy tokens equal
/// wherever its top-2 logit gap exceeds 0.1, and the perplexity of the prompt (from the logits of
/// every position) within 0.1% of the oracle's. Run it with TRIDENT_Q8_ACTIVATIONS=1 to check int8.
@Suite("Q8_0 models with this process's activation precision against the oracle")
struct Q8ActivationModelTests {
    static let cases = [("tiny-q8_0.hello", "tiny-llama-q8_0.gguf"), ("tiny-q8_0.long", "tiny-llama-q8_0.gguf"),
                        ("tiny-6l-q8_0.pipe", "tiny-llama-6l-q8_0.gguf")]

    @Test("greedy ids equal the oracle's up to its first top-2 gap below 0.1", arguments: cases)
    func greedy(fixtureName: String, model: String) throws {
        let fixture = try OracleFixture.load(fixtureName)
        let expected = fixture.greedyBeforeNearTie(gap: 0.1)
        let runner = try singleRankRunner(OracleFixture.model(model))
        let produced = try greedyDecode(runner, prompt: fixture.tokens, steps: expected.count).ids
        #expect(produced == Array(expected), "\(ActivationPrecision.current)")
    }

    @Test("prompt perplexity within 0.1% of the oracle's", arguments: cases.filter { $0.0 != "tiny-q8_0.long" })
    func perplexity(fixtureName: String, model: String) throws {
        let fixture = try OracleFixture.load(fixtureName)
        let runner = try singleRankRunner(OracleFixture.model(model))
        let logits = try runner.forward(tokens: fixture.tokens, slot: 0, start: 0, logits: .all)
        let expected = try fixture.allLogits()
        #expect(logits.count == expected.count)
        let ours = Self.perplexity(logits, tokens: fixture.tokens)
        let oracle = Self.perplexity(expected, tokens: fixture.tokens)
        #expect(abs(ours / oracle - 1) < 0.001, "\(ActivationPrecision.current): \(ours) vs oracle \(oracle)")
    }

    /// exp(mean over positions i < n-1 of −log softmax(logits[i])[tokens[i+1]]), in Double.
    static func perplexity(_ logits: [Float], tokens: [Int32]) -> Double {
        let vocabulary = logits.count / tokens.count
        var total = 0.0
        for i in 0..<(tokens.count - 1) {
            let row = logits[(i * vocabulary)..<((i + 1) * vocabulary)].map(Double.init)
            let top = row.max()!
            let logSum = top + log(row.reduce(0) { $0 + exp($1 - top) })
            total += logSum - row[Int(tokens[i + 1])]
        }
        return exp(total / Double(tokens.count - 1))
    }
}
