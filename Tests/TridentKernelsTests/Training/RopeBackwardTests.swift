import Foundation
import Testing
@testable import TridentKernels

/// RoPE backward against central differences of a Double forward with the layout of
/// `VectorKernels.rope` (adjacent pairs, arbitrary positions). Tolerance 1e-5 scaled.
@Suite struct RopeBackwardTests {
    static func ropeDouble(_ x: [Double], tokens: Int, heads: Int, headDim: Int, positions: [Int], base: Double) -> [Double] {
        var y = x
        for t in 0..<tokens {
            for h in 0..<heads {
                for i in 0..<(headDim / 2) {
                    let angle = Double(positions[t]) * pow(base, -2 * Double(i) / Double(headDim))
                    let k = (t * heads + h) * headDim + 2 * i
                    y[k] = x[k] * cos(angle) - x[k + 1] * sin(angle)
                    y[k + 1] = x[k] * sin(angle) + x[k + 1] * cos(angle)
                }
            }
        }
        return y
    }

    @Test func matchesFiniteDifferences() {
        let (tokens, heads, headDim) = (4, 3, 6)
        let positions = [3, 0, 17, 1000]
        let x = randomFloats(tokens * heads * headDim, seed: 40), r = randomFloats(x.count, seed: 41)
        let fd = finiteDifferences(x) {
            weightedSum(Self.ropeDouble($0, tokens: tokens, heads: heads, headDim: headDim, positions: positions, base: 10000), r)
        }
        var gradient = r
        positions.withUnsafeBufferPointer { p in
            gradient.withBase { RopeBackward.backward($0, tokens: tokens, heads: heads, headDim: headDim,
                                                      positions: p.baseAddress!, base: 10000) }
        }
        #expect(scaledError(gradient, fd) < 1e-5)
    }

    /// The backward is the inverse of the forward kernel: backward(rope(x)) = x to f32 rounding.
    @Test func invertsTheForwardKernel() {
        let (tokens, heads, headDim) = (5, 2, 64)
        let positions = [0, 7, 8, 300, 4095]
        let x = randomFloats(tokens * heads * headDim, seed: 42)
        var y = x
        positions.withUnsafeBufferPointer { p in
            y.withBase { VectorKernels.rope($0, tokens: tokens, heads: heads, headDim: headDim, positions: p.baseAddress!, base: 100_000) }
            y.withBase { RopeBackward.backward($0, tokens: tokens, heads: heads, headDim: headDim, positions: p.baseAddress!, base: 100_000) }
        }
        #expect(zip(x, y).map { abs($0 - $1) }.max()! < 1e-6)
    }
}
