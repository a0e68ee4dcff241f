import Testing
@testable import TridentKernels

/// `LinearBackward` against the naive Double reference (awkward sizes: tails of the 12×32 and
/// 6×16 tiles, the 256 depth block, the work tiles) and against finite differences.
@Suite struct LinearBackwardTests {
    static let shapes: [(tokens: Int, inFeatures: Int, outFeatures: Int)] = [
        (1, 1, 1), (5, 3, 7), (37, 45, 33), (4, 130, 70), (70, 17, 300), (33, 161, 5),
    ]

    /// Runs the fast kernels; dx written (or accumulated onto `dxStart`), dW and db accumulated onto the start values.
    static func fast(_ dy: [Float], _ w: [Float], _ x: [Float], tokens: Int, inFeatures: Int, outFeatures: Int,
                     dxStart: [Float]?, dWStart: [Float], dbStart: [Float], pool: ThreadPool) -> ([Float], [Float], [Float]) {
        var dx = dxStart ?? [Float](repeating: .nan, count: tokens * inFeatures)
        var dW = dWStart, db = dbStart
        dy.withUnsafeBufferPointer { dyp in
            w.withUnsafeBufferPointer { wp in
                x.withUnsafeBufferPointer { xp in
                    dx.withBase { dxp in
                        LinearBackward.inputGradient(outputGradient: dyp.baseAddress!, weight: wp.baseAddress!, inputGradient: dxp,
                                                     tokens: tokens, inFeatures: inFeatures, outFeatures: outFeatures,
                                                     accumulate: dxStart != nil, pool: pool)
                    }
                    dW.withBase { dWp in
                        LinearBackward.weightGradient(outputGradient: dyp.baseAddress!, input: xp.baseAddress!, weightGradient: dWp,
                                                      tokens: tokens, inFeatures: inFeatures, outFeatures: outFeatures, pool: pool)
                    }
                    db.withBase { dbp in
                        LinearBackward.biasGradient(outputGradient: dyp.baseAddress!, biasGradient: dbp, tokens: tokens,
                                                    outFeatures: outFeatures, pool: pool)
                    }
                }
            }
        }
        return (dx, dW, db)
    }

    /// Tolerance: 2e-6 × max(1, max |reference|) per element (sums of ≤ 300 products of numbers in [-1, 1]).
    @Test(arguments: 0..<6)
    func matchesReference(shapeIndex: Int) {
        let (tokens, inF, outF) = Self.shapes[shapeIndex]
        let dy = randomFloats(tokens * outF, seed: 1), w = randomFloats(outF * inF, seed: 2)
        let x = randomFloats(tokens * inF, seed: 3)
        let ref = LinearBackward.reference(outputGradient: dy, weight: w, input: x, tokens: tokens,
                                           inFeatures: inF, outFeatures: outF)
        for pool in testPools {
            let (dx, dW, db) = Self.fast(dy, w, x, tokens: tokens, inFeatures: inF, outFeatures: outF, dxStart: nil,
                                         dWStart: [Float](repeating: 0, count: outF * inF),
                                         dbStart: [Float](repeating: 0, count: outF), pool: pool)
            #expect(scaledError(dx, ref.dx) < 2e-6, "dx \(Self.shapes[shapeIndex]) threads \(pool.threadCount)")
            #expect(scaledError(dW, ref.dW) < 2e-6, "dW \(Self.shapes[shapeIndex]) threads \(pool.threadCount)")
            #expect(scaledError(db, ref.db) < 2e-6, "db \(Self.shapes[shapeIndex]) threads \(pool.threadCount)")
        }
    }

    /// dx with `accumulate`, dW and db always add onto what the buffers held.
    @Test func accumulatesOntoExistingValues() {
        let (tokens, inF, outF) = (9, 40, 21)
        let dy = randomFloats(tokens * outF, seed: 4), w = randomFloats(outF * inF, seed: 5)
        let x = randomFloats(tokens * inF, seed: 6)
        let dxStart = randomFloats(tokens * inF, seed: 7), dWStart = randomFloats(outF * inF, seed: 8)
        let dbStart = randomFloats(outF, seed: 9)
        let ref = LinearBackward.reference(outputGradient: dy, weight: w, input: x, tokens: tokens, inFeatures: inF, outFeatures: outF)
        let (dx, dW, db) = Self.fast(dy, w, x, tokens: tokens, inFeatures: inF, outFeatures: outF, dxStart: dxStart,
                                     dWStart: dWStart, dbStart: dbStart, pool: testPools[1])
        #expect(scaledError(dx, zip(ref.dx, dxStart).map { $0 + Double($1) }) < 2e-6)
        #expect(scaledError(dW, zip(ref.dW, dWStart).map { $0 + Double($1) }) < 2e-6)
        #expect(scaledError(db, zip(ref.db, dbStart).map { $0 + Double($1) }) < 2e-6)
    }

    /// Gradients of `Σ r ⊙ (x Wᵀ + b)` against central differences in Double (tolerance 1e-5 scaled).
    @Test func matchesFiniteDifferences() {
        let (tokens, inF, outF) = (3, 5, 4)
        let x = randomFloats(tokens * inF, seed: 10), w = randomFloats(outF * inF, seed: 11)
        let b = randomFloats(outF, seed: 12), r = randomFloats(tokens * outF, seed: 13)
        func loss(_ x: [Double], _ w: [Double], _ b: [Double]) -> Double {
            var y = [Double](repeating: 0, count: tokens * outF)
            for t in 0..<tokens {
                for o in 0..<outF {
                    var s = b[o]
                    for i in 0..<inF { s += x[t * inF + i] * w[o * inF + i] }
                    y[t * outF + o] = s
                }
            }
            return weightedSum(y, r)
        }
        let wd = w.map(Double.init), xd = x.map(Double.init), bd = b.map(Double.init)
        let fdX = finiteDifferences(x) { loss($0, wd, bd) }
        let fdW = finiteDifferences(w) { loss(xd, $0, bd) }
        let fdB = finiteDifferences(b) { loss(xd, wd, $0) }
        let (dx, dW, db) = Self.fast(r, w, x, tokens: tokens, inFeatures: inF, outFeatures: outF, dxStart: nil,
                                     dWStart: [Float](repeating: 0, count: outF * inF),
                                     dbStart: [Float](repeating: 0, count: outF), pool: testPools[0])
        #expect(scaledError(dx, fdX) < 1e-5)
        #expect(scaledError(dW, fdW) < 1e-5)
        #expect(scaledError(db, fdB) < 1e-5)
    }

    /// Each output element is owned by one work item and summed in a fixed order, so results
    /// are bitwise identical for any thread count.
    @Test func deterministicAcrossThreadCounts() {
        let (tokens, inF, outF) = (67, 300, 130)
        let dy = randomFloats(tokens * outF, seed: 14), w = randomFloats(outF * inF, seed: 15)
        let x = randomFloats(tokens * inF, seed: 16)
        let runs = testPools.map { pool in
            Self.fast(dy, w, x, tokens: tokens, inFeatures: inF, outFeatures: outF, dxStart: nil,
                      dWStart: [Float](repeating: 0, count: outF * inF), dbStart: [Float](repeating: 0, count: outF), pool: pool)
        }
        #expect(runs[0].0 == runs[1].0 && runs[0].1 == runs[1].1 && runs[0].2 == runs[1].2)
    }
}
