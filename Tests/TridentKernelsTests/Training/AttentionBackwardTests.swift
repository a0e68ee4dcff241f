import Foundation
import Testing
@testable import TridentKernels

/// Training attention: forward (output and log-sum-exp) against `Attention.causalReference`
/// and a Double forward; backward against central differences of that Double forward, for
/// grouped, uneven and duplicated KV-head tables and a non-zero start position.
@Suite struct AttentionBackwardTests {
    struct Case: CustomStringConvertible, Sendable {
        var tokens: Int, start: Int, heads: Int, kvHeads: Int, headDim: Int, table: [Int]
        var description: String { "T\(tokens)+\(start) H\(heads) KV\(kvHeads) d\(headDim) \(table)" }
        var layout: AttentionLayout { AttentionLayout(heads: heads, kvHeads: kvHeads, headDim: headDim, kvHeadForHead: table) }
        var positions: Int { start + tokens }
    }

    static let cases: [Case] = [
        Case(tokens: 1, start: 0, heads: 1, kvHeads: 1, headDim: 1, table: [0]),
        Case(tokens: 4, start: 0, heads: 4, kvHeads: 2, headDim: 8, table: [0, 0, 1, 1]),      // grouped
        Case(tokens: 5, start: 0, heads: 3, kvHeads: 2, headDim: 5, table: [0, 0, 1]),         // uneven split
        Case(tokens: 3, start: 2, heads: 3, kvHeads: 2, headDim: 4, table: [1, 1, 1]),         // KV head 0 unused
        Case(tokens: 4, start: 1, heads: 5, kvHeads: 3, headDim: 3, table: [0, 1, 1, 2, 0]),   // any table
    ]

    /// Output `[tokens, heads, d]` and log-sum-exp `[tokens, heads]` in Double.
    static func forwardDouble(_ c: Case, _ q: [Double], _ k: [Double], _ v: [Double],
                              factor: (Int, Int, Int) -> Double = { _, _, _ in 1 }) -> (out: [Double], lse: [Double]) {
        let d = c.headDim, kvStride = c.kvHeads * d
        var out = [Double](repeating: 0, count: c.tokens * c.heads * d), lse = [Double](repeating: 0, count: c.tokens * c.heads)
        for t in 0..<c.tokens {
            for h in 0..<c.heads {
                let row = t * c.heads + h, kv = c.table[h] * d
                let scores = (0...(c.start + t)).map { p in
                    (0..<d).reduce(0.0) { $0 + q[row * d + $1] * k[p * kvStride + kv + $1] } / Double(d).squareRoot()
                }
                let m = scores.max()!
                let z = scores.reduce(0) { $0 + exp($1 - m) }
                lse[row] = m + log(z)
                for (p, s) in scores.enumerated() {
                    let f = factor(t, h, p)
                    for i in 0..<d { out[row * d + i] += exp(s - m) / z * f * v[p * kvStride + kv + i] }
                }
            }
        }
        return (out, lse)
    }

    static func run(_ c: Case, _ q: [Float], _ k: [Float], _ v: [Float], _ dOut: [Float],
                    dropout: AttentionDropout? = nil, pool: ThreadPool)
        -> (out: [Float], lse: [Float], dq: [Float], dk: [Float], dv: [Float]) {
        var out = [Float](repeating: .nan, count: q.count), lse = [Float](repeating: .nan, count: c.tokens * c.heads)
        var dq = out, dk = [Float](repeating: .nan, count: k.count), dv = dk
        q.withUnsafeBufferPointer { qp in k.withUnsafeBufferPointer { kp in v.withUnsafeBufferPointer { vp in
            dOut.withUnsafeBufferPointer { gp in
                out.withBase { op in lse.withBase { lp in
                    AttentionTraining.forward(queries: qp.baseAddress!, keys: kp.baseAddress!, values: vp.baseAddress!,
                                              output: op, logSumExp: lp, tokens: c.tokens, startPosition: c.start,
                                              layout: c.layout, dropout: dropout, pool: pool)
                    dq.withBase { dqp in dk.withBase { dkp in dv.withBase { dvp in
                        AttentionTraining.backward(queries: qp.baseAddress!, keys: kp.baseAddress!, values: vp.baseAddress!,
                                                   output: op, logSumExp: lp, outputGradient: gp.baseAddress!,
                                                   queryGradient: dqp, keyGradient: dkp, valueGradient: dvp,
                                                   tokens: c.tokens, startPosition: c.start, layout: c.layout,
                                                   dropout: dropout, pool: pool)
                    } } }
                } }
            }
        } } }
        return (out, lse, dq, dk, dv)
    }

    /// Forward within 2e-6 of the Double forward (and of `Attention.causalReference`);
    /// gradients within 2e-5 × max(1, max |gradient|) of central differences.
    @Test(arguments: 0..<5)
    func matchesFiniteDifferences(caseIndex: Int) {
        let c = Self.cases[caseIndex]
        let q = randomFloats(c.tokens * c.heads * c.headDim, in: -2...2, seed: 50)
        let k = randomFloats(c.positions * c.kvHeads * c.headDim, in: -2...2, seed: 51)
        let v = randomFloats(k.count, seed: 52), r = randomFloats(q.count, seed: 53)
        let (qd, kd, vd) = (q.map(Double.init), k.map(Double.init), v.map(Double.init))
        let reference = Self.forwardDouble(c, qd, kd, vd)
        let fdQ = finiteDifferences(q) { weightedSum(Self.forwardDouble(c, $0, kd, vd).out, r) }
        let fdK = finiteDifferences(k) { weightedSum(Self.forwardDouble(c, qd, $0, vd).out, r) }
        let fdV = finiteDifferences(v) { weightedSum(Self.forwardDouble(c, qd, kd, $0).out, r) }
        let kernelReference = Attention.causalReference(queries: q, keys: k, values: v, tokens: c.tokens,
                                                        startPosition: c.start, layout: c.layout)
        let naive = AttentionTraining.backwardReference(queries: q, keys: k, values: v, outputGradient: r,
                                                        tokens: c.tokens, startPosition: c.start, layout: c.layout)
        #expect(scaledError(naive.dq.map { Float($0) }, fdQ) < 1e-6, "reference dq \(c)")
        #expect(scaledError(naive.dk.map { Float($0) }, fdK) < 1e-6, "reference dk \(c)")
        #expect(scaledError(naive.dv.map { Float($0) }, fdV) < 1e-6, "reference dv \(c)")
        for pool in testPools {
            let got = Self.run(c, q, k, v, r, pool: pool)
            #expect(scaledError(got.out, reference.out) < 2e-6, "out \(c)")
            #expect(scaledError(got.out, kernelReference.map(Double.init)) < 2e-6, "out vs causalReference \(c)")
            #expect(scaledError(got.lse, reference.lse) < 2e-6, "lse \(c)")
            #expect(scaledError(got.dq, fdQ) < 2e-5, "dq \(c) threads \(pool.threadCount)")
            #expect(scaledError(got.dk, fdK) < 2e-5, "dk \(c) threads \(pool.threadCount)")
            #expect(scaledError(got.dv, fdV) < 2e-5, "dv \(c) threads \(pool.threadCount)")
        }
    }

    /// Two query heads sharing a KV head get the sum of their gradients: the shared layout's dk
    /// equals the sum of dk of the same heads computed against two separate copies of the KV head.
    @Test func sharedKVHeadSumsItsQueryHeads() {
        let shared = Case(tokens: 4, start: 0, heads: 2, kvHeads: 1, headDim: 6, table: [0, 0])
        let split = Case(tokens: 4, start: 0, heads: 2, kvHeads: 2, headDim: 6, table: [0, 1])
        let q = randomFloats(4 * 2 * 6, seed: 60), k1 = randomFloats(4 * 6, seed: 61), v1 = randomFloats(4 * 6, seed: 62)
        let r = randomFloats(q.count, seed: 63)
        func duplicate(_ x: [Float]) -> [Float] {
            (0..<4).flatMap { (p: Int) -> [Float] in
                let row = Array(x[(p * 6)..<(p * 6 + 6)])
                return row + row
            }
        }
        let a = Self.run(shared, q, k1, v1, r, pool: testPools[1])
        let b = Self.run(split, q, duplicate(k1), duplicate(v1), r, pool: testPools[1])
        func summed(_ x: [Float]) -> [Double] {
            (0..<24).map { (i: Int) -> Double in
                let base: Int = (i / 6) * 12 + i % 6
                return Double(x[base]) + Double(x[base + 6])
            }
        }
        #expect(scaledError(a.dk, summed(b.dk)) < 1e-6)
        #expect(scaledError(a.dv, summed(b.dv)) < 1e-6)
        #expect(scaledError(a.dq, b.dq.map(Double.init)) < 1e-6)
    }

    /// Model-sized heads (d = 64) at an odd length against the Double reference: a rank's
    /// share of 9 heads over 3 KV heads split 5 + 4 (the first rank's 5 heads read KV heads
    /// 0, 0, 0, 1, 1 of its 2), start position 5. Tolerance 1e-5 × max(1, max |gradient|).
    @Test func modelSizedHeadsMatchReference() {
        let c = Case(tokens: 37, start: 5, heads: 5, kvHeads: 2, headDim: 64, table: [0, 0, 0, 1, 1])
        let q = randomFloats(c.tokens * c.heads * c.headDim, in: -2...2, seed: 70)
        let k = randomFloats(c.positions * c.kvHeads * c.headDim, in: -2...2, seed: 71)
        let v = randomFloats(k.count, seed: 72), r = randomFloats(q.count, seed: 73)
        let reference = AttentionTraining.backwardReference(queries: q, keys: k, values: v, outputGradient: r,
                                                            tokens: c.tokens, startPosition: c.start, layout: c.layout)
        let got = Self.run(c, q, k, v, r, pool: testPools[1])
        #expect(scaledError(got.dq, reference.dq) < 1e-5)
        #expect(scaledError(got.dk, reference.dk) < 1e-5)
        #expect(scaledError(got.dv, reference.dv) < 1e-5)
    }

    /// Dropout p = 0.3 on the probabilities: gradients against central differences of the
    /// Double forward with the same mask (2e-5 scaled); about 30% of the factors are zero.
    @Test func dropoutMatchesFiniteDifferences() {
        let c = Self.cases[4]
        let dropout = AttentionDropout(probability: 0.3, random: CounterRandom(seed: 9), stream: CounterRandom.stream(1, 2),
                                       rowOffset: 11, globalHeads: [0, 1, 2, 3, 4], totalHeads: 5)
        let factor = { (t: Int, h: Int, p: Int) in Double(dropout.factor(t: t, h: h, p: p, positions: c.positions)) }
        let q = randomFloats(c.tokens * c.heads * c.headDim, in: -2...2, seed: 80)
        let k = randomFloats(c.positions * c.kvHeads * c.headDim, in: -2...2, seed: 81)
        let v = randomFloats(k.count, seed: 82), r = randomFloats(q.count, seed: 83)
        let (qd, kd, vd) = (q.map(Double.init), k.map(Double.init), v.map(Double.init))
        let got = Self.run(c, q, k, v, r, dropout: dropout, pool: testPools[1])
        #expect(scaledError(got.out, Self.forwardDouble(c, qd, kd, vd, factor: factor).out) < 2e-6)
        #expect(scaledError(got.dq, finiteDifferences(q) { weightedSum(Self.forwardDouble(c, $0, kd, vd, factor: factor).out, r) }) < 2e-5)
        #expect(scaledError(got.dk, finiteDifferences(k) { weightedSum(Self.forwardDouble(c, qd, $0, vd, factor: factor).out, r) }) < 2e-5)
        #expect(scaledError(got.dv, finiteDifferences(v) { weightedSum(Self.forwardDouble(c, qd, kd, $0, factor: factor).out, r) }) < 2e-5)
        var dropped = 0, total = 0
        for t in 0..<c.tokens { for h in 0..<c.heads { for p in 0...(c.start + t) {
            total += 1
            if factor(t, h, p) == 0 { dropped += 1 }
        } } }
        #expect(dropped > 0 && dropped < total)
    }

    /// Heads 3 and 4 of the 5-head case computed alone (as another rank would, with their
    /// global head indices and only the KV heads they read) get the same dropout mask and
    /// outputs as in the full computation.
    @Test func dropoutMaskDoesNotDependOnTheHeadSplit() {
        let full = Self.cases[4]   // table [0, 1, 1, 2, 0]
        let part = Case(tokens: full.tokens, start: full.start, heads: 2, kvHeads: 2, headDim: full.headDim, table: [0, 1])
        let make = { (heads: [Int]) in AttentionDropout(probability: 0.5, random: CounterRandom(seed: 3), stream: 77,
                                                        rowOffset: 0, globalHeads: heads, totalHeads: 5) }
        let d = full.headDim
        let q = randomFloats(full.tokens * full.heads * d, seed: 90)
        let k = randomFloats(full.positions * full.kvHeads * d, seed: 91), v = randomFloats(k.count, seed: 92)
        let r = randomFloats(q.count, seed: 93)
        func pick(_ x: [Float], _ width: Int, _ rows: Int, _ indices: [Int]) -> [Float] {
            var out: [Float] = []
            for row in 0..<rows {
                for i in indices {
                    let start: Int = (row * width + i) * d
                    out += x[start..<(start + d)]
                }
            }
            return out
        }
        let a = Self.run(full, q, k, v, r, dropout: make([0, 1, 2, 3, 4]), pool: testPools[0])
        let b = Self.run(part, pick(q, 5, full.tokens, [3, 4]), pick(k, 3, full.positions, [2, 0]),
                         pick(v, 3, full.positions, [2, 0]), pick(r, 5, full.tokens, [3, 4]),
                         dropout: make([3, 4]), pool: testPools[0])
        #expect(b.out == pick(a.out, 5, full.tokens, [3, 4]))
        #expect(b.dq == pick(a.dq, 5, full.tokens, [3, 4]))
    }
}
