import Foundation
import Testing
import TridentKernels
import TridentTestSupport

/// `RopeScaling` in `VectorKernels.rope` and `RopeBackward`: the fast kernel against the
/// Double reference, linear scaling against rescaled positions, per-pair factors against a
/// smaller base where they agree, and the Llama 3 divisors' shape.
@Suite struct RopeScalingTests {
    static func rotated(_ x: [Float], tokens: Int, heads: Int, headDim: Int, positions: [Int], base: Float = 10_000,
                        pairing: RopePairing, scaling: RopeScaling) -> [Float] {
        var y = x
        positions.withUnsafeBufferPointer { p in
            y.withBase { VectorKernels.rope($0, tokens: tokens, heads: heads, headDim: headDim, positions: p.baseAddress!,
                                            base: base, pairing: pairing, scaling: scaling) }
        }
        return y
    }

    /// An odd pair count (headDim 10) and factors on both sides of 1; tolerance 1e-5 (f32 rotation).
    @Test(arguments: RopePairing.allCases)
    func matchesTheReference(pairing: RopePairing) {
        let (tokens, heads, headDim) = (6, 3, 10)
        let positions = [0, 1, 9, 64, 1000, 8191]
        let x = randomFloats(tokens * heads * headDim, seed: 11)
        let scaling = RopeScaling(frequencyFactors: [1, 0.5, 3, 8, 31.5], linearFactor: 2.5)
        let got = Self.rotated(x, tokens: tokens, heads: heads, headDim: headDim, positions: positions, pairing: pairing,
                               scaling: scaling)
        let expected = VectorKernelsReference.rope(x, tokens: tokens, heads: heads, headDim: headDim, positions: positions,
                                                   base: 10_000, pairing: pairing, scaling: scaling)
        #expect(maxAbsDifference(got, expected) < 1e-5)
        let plain = Self.rotated(x, tokens: tokens, heads: heads, headDim: headDim, positions: positions, pairing: pairing,
                                 scaling: .none)
        #expect(maxAbsDifference(got, plain) > 0.1, "the scaling changes the rotation")
    }

    /// Linear factor 4 at positions 4p rotates as plain RoPE at p; all-one factors are plain RoPE.
    @Test func linearScalingDividesPositions() {
        let (tokens, heads, headDim) = (4, 2, 16)
        let x = randomFloats(tokens * heads * headDim, seed: 12)
        let scaled = Self.rotated(x, tokens: tokens, heads: heads, headDim: headDim, positions: [0, 4, 40, 4000],
                                  pairing: .adjacent, scaling: RopeScaling(linearFactor: 4))
        let plain = Self.rotated(x, tokens: tokens, heads: heads, headDim: headDim, positions: [0, 1, 10, 1000],
                                 pairing: .adjacent, scaling: .none)
        #expect(maxAbsDifference(scaled, plain) < 1e-6)
        let ones = Self.rotated(x, tokens: tokens, heads: heads, headDim: headDim, positions: [0, 4, 40, 4000],
                                pairing: .halves, scaling: RopeScaling(frequencyFactors: Array(repeating: 1, count: 8)))
        let none = Self.rotated(x, tokens: tokens, heads: heads, headDim: headDim, positions: [0, 4, 40, 4000],
                                pairing: .halves, scaling: .none)
        #expect(ones == none)
    }

    /// Divisors `(b/B)^(2i/d)` make base B rotate every pair as base b (here B 10, b 1000).
    @Test func frequencyFactorsRescaleEachPair() {
        let (tokens, heads, headDim) = (3, 2, 12)
        let x = randomFloats(tokens * heads * headDim, seed: 13)
        let factors = (0 ..< headDim / 2).map { Float(pow(100.0, 2 * Double($0) / Double(headDim))) }
        let scaled = Self.rotated(x, tokens: tokens, heads: heads, headDim: headDim, positions: [2, 33, 500], base: 10,
                                  pairing: .adjacent, scaling: RopeScaling(frequencyFactors: factors))
        let largerBase = Self.rotated(x, tokens: tokens, heads: heads, headDim: headDim, positions: [2, 33, 500], base: 1000,
                                      pairing: .adjacent, scaling: .none)
        #expect(maxAbsDifference(scaled, largerBase) < 1e-4)
    }

    /// The backward rotates back by the same scaled angles: backward(rope(x)) = x.
    @Test(arguments: RopePairing.allCases)
    func backwardInvertsTheScaledForward(pairing: RopePairing) {
        let (tokens, heads, headDim) = (5, 2, 8)
        let positions = [0, 7, 8, 300, 4095]
        let scaling = RopeScaling(frequencyFactors: [1, 1.3, 6.7, 8], linearFactor: 3)
        let x = randomFloats(tokens * heads * headDim, seed: 14)
        var y = Self.rotated(x, tokens: tokens, heads: heads, headDim: headDim, positions: positions, pairing: pairing,
                             scaling: scaling)
        positions.withUnsafeBufferPointer { p in
            y.withBase { RopeBackward.backward($0, tokens: tokens, heads: heads, headDim: headDim, positions: p.baseAddress!,
                                               base: 10_000, pairing: pairing, scaling: scaling) }
        }
        #expect(maxAbsDifference(x, y) < 1e-6)
        var unscaledBack = Self.rotated(x, tokens: tokens, heads: heads, headDim: headDim, positions: positions,
                                        pairing: pairing, scaling: scaling)
        positions.withUnsafeBufferPointer { p in
            unscaledBack.withBase { RopeBackward.backward($0, tokens: tokens, heads: heads, headDim: headDim,
                                                          positions: p.baseAddress!, base: 10_000, pairing: pairing) }
        }
        #expect(maxAbsDifference(x, unscaledBack) > 0.01, "a backward without the scaling would not invert it")
    }

    /// Llama 3.1 8B's parameters (base 5e5, head 128, factor 8, low 1, high 4, original 8192):
    /// short wavelengths keep divisor 1, long ones get 8, the band between rises monotonically.
    @Test func llama3FactorsHaveThreeBranches() {
        let f = RopeScaling.llama3Factors(base: 500_000, headDim: 128, factor: 8, lowFrequencyFactor: 1,
                                          highFrequencyFactor: 4, originalContext: 8192)
        #expect(f.count == 64)
        let wavelengths = (0 ..< 64).map { 2 * Double.pi * pow(500_000, 2 * Double($0) / 128) }
        for i in 0 ..< 64 {
            if wavelengths[i] < 2048 { #expect(f[i] == 1, "pair \(i)") }
            if wavelengths[i] > 8192 { #expect(f[i] == 8, "pair \(i)") }
            if wavelengths[i] >= 2048 && wavelengths[i] <= 8192 { #expect(f[i] >= 1 && f[i] <= 8, "pair \(i)") }
        }
        #expect(zip(f, f.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(f.contains { $0 > 1 && $0 < 8 })
        #expect(RopeScaling(frequencyFactors: f).problem(headDim: 128) == nil)
        #expect(RopeScaling(frequencyFactors: f).problem(headDim: 64) != nil)
        #expect(RopeScaling(frequencyFactors: [1, .nan]).problem(headDim: 4) != nil)
        #expect(RopeScaling(linearFactor: 0).problem(headDim: 4) != nil)
    }
}
