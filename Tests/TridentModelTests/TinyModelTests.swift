import Foundation
import Testing
import TridentCollectives
import TridentEngine
import TridentModel

/// Loads `model` on a world of one rank and returns a runner for it.
func singleRankRunner(_ path: String, capacity: Int = 256, threads: Int = 2) throws -> DistributedRunner {
    let world = LocalCommunicator.makeGroup(size: 1)[0]
    return DistributedRunner(runtime: try RankRuntime.load(path: path, world: world, threads: threads, capacity: capacity))
}

@Suite("Tiny models against the oracle")
struct TinyModelTests {
    /// Tolerances: F32 weights 1e-4 (float32 vs the oracle's float64); quantized weights 1e-3
    /// (same dequantized weights, so only float32 rounding differs).
    static let cases: [(variant: String, tolerance: Float)] = [("f32", 1e-4), ("q8_0", 1e-3), ("q4_1", 1e-3)]

    @Test("prefill logits of every position match", arguments: cases.map(\.variant))
    func prefillLogits(variant: String) throws {
        let tolerance = Self.cases.first { $0.variant == variant }!.tolerance
        let fixture = try OracleFixture.load("tiny-\(variant).hello")
        let runner = try singleRankRunner(OracleFixture.model("tiny-llama-\(variant).gguf"))
        let logits = try runner.forward(tokens: fixture.tokens, slot: 0, start: 0, logits: .all)
        let expected = try fixture.allLogits()
        #expect(logits.count == expected.count)
        #expect(maxAbsDifference(logits, expected) < tolerance)
    }

    @Test("decoding one token at a time through the KV cache matches the oracle", arguments: cases.map(\.variant))
    func incrementalDecode(variant: String) throws {
        let tolerance = Self.cases.first { $0.variant == variant }!.tolerance
        let fixture = try OracleFixture.load("tiny-\(variant).long")
        let runner = try singleRankRunner(OracleFixture.model("tiny-llama-\(variant).gguf"))
        // Prefill all but the last 3 tokens as a batch, then feed those one by one.
        let split = fixture.tokens.count - 3
        _ = try runner.forward(tokens: Array(fixture.tokens[..<split]), slot: 0, start: 0, logits: .none)
        var logits: [Float] = []
        for position in split..<fixture.tokens.count {
            logits = try runner.forward(tokens: [fixture.tokens[position]], slot: 0, start: position, logits: .last)
        }
        #expect(maxAbsDifference(logits, try fixture.lastLogits()) < tolerance)
    }

    @Test("greedy continuation equals the oracle's up to the first near-tie", arguments: cases.map(\.variant))
    func greedyContinuation(variant: String) throws {
        let fixture = try OracleFixture.load("tiny-\(variant).hello")
        let runner = try singleRankRunner(OracleFixture.model("tiny-llama-\(variant).gguf"))
        let expected = fixture.greedyBeforeNearTie(gap: 0.01)
        var logits = try runner.forward(tokens: fixture.tokens, slot: 0, start: 0, logits: .last)
        var produced: [Int32] = []
        var position = fixture.tokens.count
        while produced.count < expected.count {
            let next = Sampler.argmax(logits)
            produced.append(next)
            logits = try runner.forward(tokens: [next], slot: 0, start: position, logits: .last)
            position += 1
        }
        #expect(produced == Array(expected))
        #expect(expected.count >= 4, "the fixture should allow a meaningful comparison")
    }
}
