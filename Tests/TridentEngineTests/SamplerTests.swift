import Foundation
import Testing
@testable import TridentEngine

/// The sampler against arithmetic: tiny temperatures are greedy (no overflow of 1/T), and at
/// ordinary temperatures the draw frequencies match `softmax(logits / T)`.
@Suite("Sampler")
struct SamplerTests {
    /// `count` logits in about [-60, 60], every one distinct with gaps of at least 0.05, in a
    /// seeded random order (large magnitudes are what made `logit / T` overflow).
    static func spreadLogits(count: Int, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        var ranks = Array(0..<count)
        ranks.shuffle(using: &generator)
        return ranks.map { Float($0) * 120 / Float(count) - 60 }
    }

    @Test("a tiny temperature samples the greedy token (1e-40 is subnormal; 1/T overflows Float)",
          arguments: [Float("1e-40")!, 1e-30, 1e-8, .leastNonzeroMagnitude])
    func tinyTemperatureIsGreedy(temperature: Float) {
        for seed in UInt64(0)..<40 {
            let logits = Self.spreadLogits(count: 2000, seed: seed)
            let greedy = Sampler.argmax(logits)
            for (topK, topP) in [(0, Float(1)), (40, 0.9)] {
                var sampler = Sampler(SamplingParameters(temperature: temperature, topK: topK, topP: topP, seed: seed))
                for _ in 0..<3 {
                    #expect(sampler.sample(logits: logits, history: []) == greedy, "T=\(temperature) seed \(seed)")
                }
            }
        }
    }

    /// softmax(logits / T) in Double, the reference distribution.
    static func reference(_ logits: [Float], temperature: Double) -> [Double] {
        let top = Double(logits.max()!)
        let weights = logits.map { exp((Double($0) - top) / temperature) }
        let sum = weights.reduce(0, +)
        return weights.map { $0 / sum }
    }

    @Test("draw frequencies match softmax(logits / T) within 4.5 standard errors", arguments: [1.0, 0.5, 2.0])
    func matchesDistribution(temperature: Double) {
        let logits: [Float] = [2, 1, 0.5, 0, -1, 1.5]
        let expected = Self.reference(logits, temperature: temperature)
        let draws = 40_000
        var counts = [Int](repeating: 0, count: logits.count)
        var sampler = Sampler(SamplingParameters(temperature: Float(temperature), seed: 42))
        for _ in 0..<draws { counts[Int(sampler.sample(logits: logits, history: []))] += 1 }
        for (i, p) in expected.enumerated() {
            let observed = Double(counts[i]) / Double(draws)
            let standardError = (p * (1 - p) / Double(draws)).squareRoot()
            #expect(abs(observed - p) <= 4.5 * standardError, "token \(i): observed \(observed), expected \(p)")
        }
    }

    @Test("top-k 2 keeps the two largest logits, in the ratio exp(l0 - l1)")
    func topKSupport() {
        let logits: [Float] = [0.3, 2, -1, 1.2, 0]
        var sampler = Sampler(SamplingParameters(temperature: 1, topK: 2, seed: 3))
        var counts = [Int32: Int]()
        let draws = 20_000
        for _ in 0..<draws { counts[sampler.sample(logits: logits, history: []), default: 0] += 1 }
        #expect(Set(counts.keys) == [1, 3])
        let p = 1 / (1 + exp(-0.8))  // P(token 1) among {1, 3}
        let observed = Double(counts[1] ?? 0) / Double(draws)
        #expect(abs(observed - p) <= 4.5 * (p * (1 - p) / Double(draws)).squareRoot())
    }

    @Test("equal logits, history and seed give equal streams; another seed gives another stream")
    func deterministic() {
        let logits = Self.spreadLogits(count: 500, seed: 9).map { $0 / 30 }  // a flat distribution
        func stream(seed: UInt64) -> [Int32] {
            var sampler = Sampler(SamplingParameters(temperature: 0.8, topK: 50, topP: 0.95, seed: seed))
            return (0..<64).map { _ in sampler.sample(logits: logits, history: []) }
        }
        #expect(stream(seed: 1) == stream(seed: 1))
        #expect(stream(seed: 1) != stream(seed: 2))
    }

    @Test("temperature 0 and NaN are greedy; ties go to the lowest id")
    func greedy() {
        let logits: [Float] = [1, 3, 3, -2]
        for temperature in [Float(0), -1, .nan] {
            var sampler = Sampler(SamplingParameters(temperature: temperature, seed: 5))
            #expect(sampler.sample(logits: logits, history: []) == 1)
        }
    }

    @Test("softmax at any positive temperature is finite and sums to 1")
    func softmaxFinite() {
        let logits = Self.spreadLogits(count: 300, seed: 4)
        for temperature in [Float.leastNonzeroMagnitude, Float("1e-40")!, 1e-20, 1e-3, 1, 1e30, .greatestFiniteMagnitude, .infinity] {
            let p = Sampler.softmax(logits, temperature: temperature)
            #expect(p.allSatisfy { $0.isFinite && $0 >= 0 }, "T=\(temperature)")
            #expect(abs(p.reduce(0, +) - 1) < 1e-4, "T=\(temperature)")
        }
    }
}
