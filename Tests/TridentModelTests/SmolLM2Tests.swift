import Foundation
import Testing
import TridentEngine
import TridentFormats
import TridentModel
import TridentTokenizer

/// The real default model on one rank against the numpy oracle (float64 on the same
/// dequantized weights). Heavy in debug builds; a few seconds in release.
@Suite("SmolLM2-135M Q4_1 on one rank against the oracle", .serialized,
       .enabled(if: smolLM2Available, smolLM2Missing))
struct SmolLM2Tests {
    static let prompts = ["capital", "fib", "robot"]

    @Test("last-position logits within 0.02 max abs, prompt tokens as the oracle's", arguments: prompts)
    func lastLogits(name: String) throws {
        let fixture = try OracleFixture.load("smollm2-q4_1.\(name)")
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: OracleFixture.smolLM2))
        #expect(tokenizer.encode(fixture.prompt, parseSpecial: true).map { Int32($0) } == fixture.tokens)
        let runner = try singleRankRunner(OracleFixture.smolLM2, capacity: 64)
        let logits = try runner.forward(tokens: fixture.tokens, slot: 0, start: 0, logits: .last)
        let expected = try fixture.lastLogits()
        #expect(logits.count == expected.count)
        #expect(maxAbsDifference(logits, expected) < 0.02)
    }

    @Test("greedy ids equal the oracle's up to its first top-2 gap below 0.05", arguments: prompts)
    func greedy(name: String) throws {
        let fixture = try OracleFixture.load("smollm2-q4_1.\(name)")
        let expected = fixture.greedyBeforeNearTie(gap: 0.05)
        #expect(expected.count >= 12, "the fixture should allow a meaningful comparison")
        let runner = try singleRankRunner(OracleFixture.smolLM2, capacity: 128)
        let produced = try greedyDecode(runner, prompt: fixture.tokens, steps: expected.count).ids
        #expect(produced == Array(expected))
    }

    @Test("perplexity of models/LICENSE.txt at context 128 within 0.3% of the oracle's")
    func perplexity() throws {
        let oracleFile = OracleFixture.directory.appendingPathComponent("oracle/smollm2-q4_1.license-ppl.json")
        let oracle = try JSONSerialization.jsonObject(with: Data(contentsOf: oracleFile)) as! [String: Any]
        let expected = try #require(oracle["ppl"] as? Double)
        let license = URL(fileURLWithPath: OracleFixture.smolLM2).deletingLastPathComponent()
            .appendingPathComponent("LICENSE.txt")
        let text = try String(contentsOf: license, encoding: .utf8)
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: OracleFixture.smolLM2))
        let tokens = tokenizer.encode(text, parseSpecial: false).map { Int32($0) }
        #expect(tokens.count == oracle["n_tokens"] as? Int)
        let bos: Int32? = tokenizer.vocabulary.addBOS ? tokenizer.vocabulary.bosId.map { Int32($0) } : nil
        let runner = try singleRankRunner(OracleFixture.smolLM2, capacity: 128)
        let result = try PerplexityEvaluator.evaluate(runner: runner, tokens: tokens, context: 128, bos: bos)
        #expect(result.scoredTokens == oracle["scored_tokens"] as? Int)
        #expect(abs(result.perplexity / expected - 1) < 0.003, "perplexity \(result.perplexity), oracle \(expected)")
    }
}
