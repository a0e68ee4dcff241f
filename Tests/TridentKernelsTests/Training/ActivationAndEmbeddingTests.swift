import Foundation
import Testing
@testable import TridentKernels

/// Activation derivatives and embedding scatter-adds.
@Suite struct ActivationAndEmbeddingTests {
    static func valueDouble(_ a: Activation, _ x: Double) -> Double {
        switch a {
        case .silu: return x / (1 + exp(-x))
        case .gelu: return 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
        case .relu: return max(x, 0)
        case .geluTanh: return 0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
        }
    }

    /// Values within 1e-6 of a Double forward (and SiLU of `VectorKernels.siluMultiply`);
    /// gated and ungated gradients within 1e-5 scaled of central differences. Inputs avoid
    /// |x| < 1e-3 so ReLU's kink is not straddled by the difference step.
    @Test(arguments: Activation.allCases)
    func gatedAndUngatedMatchFiniteDifferences(activation: Activation) {
        let count = 37
        let gate = randomFloats(count, in: -6...6, seed: 70).map { abs($0) < 1e-3 ? 0.5 : $0 }
        let up = randomFloats(count, seed: 71), r = randomFloats(count, seed: 72)
        let pool = testPools[1]
        var out = [Float](repeating: .nan, count: count), dGate = out, dUp = out, dx = out, plain = out
        gate.withUnsafeBufferPointer { g in up.withUnsafeBufferPointer { u in r.withUnsafeBufferPointer { rp in
            out.withBase { ActivationKernels.gatedForward(activation, gate: g.baseAddress!, up: u.baseAddress!, out: $0, count: count, pool: pool) }
            plain.withBase { ActivationKernels.forward(activation, g.baseAddress!, out: $0, count: count, pool: pool) }
            dGate.withBase { dg in dUp.withBase { du in
                ActivationKernels.gatedBackward(activation, gate: g.baseAddress!, up: u.baseAddress!, outputGradient: rp.baseAddress!,
                                                gateGradient: dg, upGradient: du, count: count, pool: pool)
            } }
            dx.withBase { ActivationKernels.backward(activation, g.baseAddress!, outputGradient: rp.baseAddress!, inputGradient: $0, count: count, pool: pool) }
        } } }
        let gated = { (g: [Double], u: [Double]) in (0..<count).map { Self.valueDouble(activation, g[$0]) * u[$0] } }
        let (gd, ud) = (gate.map(Double.init), up.map(Double.init))
        #expect(scaledError(out, gated(gd, ud)) < 1e-6)
        #expect(scaledError(plain, gd.map { Self.valueDouble(activation, $0) }) < 1e-6)
        #expect(scaledError(dGate, finiteDifferences(gate) { weightedSum(gated($0, ud), r) }) < 1e-5)
        #expect(scaledError(dUp, finiteDifferences(up) { weightedSum(gated(gd, $0), r) }) < 1e-5)
        #expect(scaledError(dx, finiteDifferences(gate) { weightedSum($0.map { Self.valueDouble(activation, $0) }, r) }) < 1e-5)
        if activation == .silu {
            #expect(scaledError(out, VectorKernelsReference.siluMultiply(gate: gate, up: up).map(Double.init)) < 1e-6)
        }
    }

    /// Vocabulary-parallel scatter-add: repeated ids add once per occurrence, ids outside the
    /// rank's range are skipped, and the slices of two ranks tile the full-table gradient.
    @Test func tokenEmbeddingScatterAddsInItsRange() {
        let (vocabulary, hidden) = (11, 19)
        let ids: [Int32] = [3, 7, 3, 10, 0, 5, 3]
        let dy = randomFloats(ids.count * hidden, seed: 80)
        var expected = [Double](repeating: 0, count: vocabulary * hidden)
        for (t, id) in ids.enumerated() { for i in 0..<hidden { expected[Int(id) * hidden + i] += Double(dy[t * hidden + i]) } }
        var tiled: [Float] = []
        for range in [0..<6, 6..<11] {
            var table = [Float](repeating: 0, count: range.count * hidden)
            ids.withUnsafeBufferPointer { ip in dy.withUnsafeBufferPointer { dp in table.withBase {
                EmbeddingBackward.tokenEmbedding(tokenIDs: ip.baseAddress!, outputGradient: dp.baseAddress!, tableGradient: $0,
                                                 vocabulary: range, tokens: ids.count, hidden: hidden, pool: testPools[1])
            } } }
            tiled += table
        }
        #expect(scaledError(tiled, expected) < 1e-6)
    }

    @Test func positionEmbeddingScatterAdds() {
        let (maxPositions, hidden) = (9, 5)
        let positions = [0, 1, 2, 0, 8]
        let dy = randomFloats(positions.count * hidden, seed: 81)
        var expected = [Double](repeating: 0, count: maxPositions * hidden)
        for (t, p) in positions.enumerated() { for i in 0..<hidden { expected[p * hidden + i] += Double(dy[t * hidden + i]) } }
        var table = [Float](repeating: 0, count: maxPositions * hidden)
        positions.withUnsafeBufferPointer { pp in dy.withUnsafeBufferPointer { dp in table.withBase {
            EmbeddingBackward.positionEmbedding(positions: pp.baseAddress!, outputGradient: dp.baseAddress!, positionGradient: $0,
                                                maxPositions: maxPositions, tokens: positions.count, hidden: hidden, pool: testPools[0])
        } } }
        #expect(scaledError(table, expected) < 1e-6)
    }
}
