import Foundation
import Testing
@testable import TridentKernels

/// RMSNorm and LayerNorm backward against central differences of a Double forward.
/// Tolerance 2e-5 × max(1, max |gradient|): the analytic gradient is computed in f32.
@Suite struct NormBackwardTests {
    static let eps: Float = 1e-5

    static func rmsNormDouble(_ x: [Double], _ w: [Double], tokens: Int, dim: Int) -> [Double] {
        var y = x
        for t in 0..<tokens {
            let row = x[(t * dim)..<((t + 1) * dim)]
            let r = 1 / (row.reduce(0) { $0 + $1 * $1 } / Double(dim) + Double(eps)).squareRoot()
            for i in 0..<dim { y[t * dim + i] = x[t * dim + i] * r * w[i] }
        }
        return y
    }

    static func layerNormDouble(_ x: [Double], _ g: [Double], _ b: [Double], tokens: Int, dim: Int) -> [Double] {
        var y = x
        for t in 0..<tokens {
            let row = Array(x[(t * dim)..<((t + 1) * dim)])
            let mean = row.reduce(0, +) / Double(dim)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(dim)
            let r = 1 / (variance + Double(eps)).squareRoot()
            for i in 0..<dim { y[t * dim + i] = (row[i] - mean) * r * g[i] + b[i] }
        }
        return y
    }

    @Test(arguments: [(1, 1), (3, 13), (4, 70)])
    func rmsNormMatchesFiniteDifferences(tokens: Int, dim: Int) {
        let x = randomFloats(tokens * dim, seed: 20), w = randomFloats(dim, in: 0.5...1.5, seed: 21)
        let r = randomFloats(tokens * dim, seed: 22)
        let fdX = finiteDifferences(x) { weightedSum(Self.rmsNormDouble($0, w.map(Double.init), tokens: tokens, dim: dim), r) }
        let fdW = finiteDifferences(w) { weightedSum(Self.rmsNormDouble(x.map(Double.init), $0, tokens: tokens, dim: dim), r) }
        for pool in testPools {
            let start = randomFloats(tokens * dim, seed: 23)
            var dx = start, dw = [Float](repeating: 0.25, count: dim)
            x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in r.withUnsafeBufferPointer { rp in
                dx.withBase { dxp in dw.withBase { dwp in
                    RMSNormBackward.backward(x: xp.baseAddress!, weight: wp.baseAddress!, eps: Self.eps,
                                             outputGradient: rp.baseAddress!, inputGradient: dxp, weightGradient: dwp,
                                             tokens: tokens, dim: dim, accumulate: true, pool: pool)
                } }
            } } }
            #expect(scaledError(dx, zip(fdX, start).map { $0 + Double($1) }) < 2e-5, "dx threads \(pool.threadCount)")
            #expect(scaledError(dw, fdW.map { $0 + 0.25 }) < 2e-5, "dw threads \(pool.threadCount)")
        }
    }

    @Test(arguments: [(1, 2), (3, 13), (5, 70)])
    func layerNormMatchesFiniteDifferences(tokens: Int, dim: Int) {
        let x = randomFloats(tokens * dim, seed: 30), g = randomFloats(dim, in: 0.5...1.5, seed: 31)
        let b = randomFloats(dim, seed: 32), r = randomFloats(tokens * dim, seed: 33)
        let (xd, gd, bd) = (x.map(Double.init), g.map(Double.init), b.map(Double.init))
        let fdX = finiteDifferences(x) { weightedSum(Self.layerNormDouble($0, gd, bd, tokens: tokens, dim: dim), r) }
        let fdG = finiteDifferences(g) { weightedSum(Self.layerNormDouble(xd, $0, bd, tokens: tokens, dim: dim), r) }
        let fdB = finiteDifferences(b) { weightedSum(Self.layerNormDouble(xd, gd, $0, tokens: tokens, dim: dim), r) }
        for pool in testPools {
            var dx = [Float](repeating: .nan, count: tokens * dim)
            var dg = [Float](repeating: 0, count: dim), db = [Float](repeating: 0, count: dim)
            var y = [Float](repeating: .nan, count: tokens * dim)
            x.withUnsafeBufferPointer { xp in g.withUnsafeBufferPointer { gp in b.withUnsafeBufferPointer { bp in
                r.withUnsafeBufferPointer { rp in
                    y.withBase { LayerNormKernels.forward(xp.baseAddress!, gamma: gp.baseAddress!, beta: bp.baseAddress!,
                                                          eps: Self.eps, out: $0, tokens: tokens, dim: dim, pool: pool) }
                    dx.withBase { dxp in dg.withBase { dgp in db.withBase { dbp in
                        LayerNormKernels.backward(x: xp.baseAddress!, gamma: gp.baseAddress!, eps: Self.eps,
                                                  outputGradient: rp.baseAddress!, inputGradient: dxp, gammaGradient: dgp,
                                                  betaGradient: dbp, tokens: tokens, dim: dim, pool: pool)
                    } } }
                }
            } } }
            #expect(scaledError(y, Self.layerNormDouble(xd, gd, bd, tokens: tokens, dim: dim)) < 2e-6, "forward")
            #expect(scaledError(dx, fdX) < 2e-5, "dx threads \(pool.threadCount)")
            #expect(scaledError(dg, fdG) < 2e-5, "dgamma threads \(pool.threadCount)")
            #expect(scaledError(db, fdB) < 2e-5, "dbeta threads \(pool.threadCount)")
        }
    }
}
