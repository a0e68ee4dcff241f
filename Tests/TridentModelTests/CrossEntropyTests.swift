import Foundation
import Testing
import TridentCollectives
import TridentKernels
@testable import TridentModel

/// Cross-entropy on one rank against Double arithmetic and finite differences; the
/// vocabulary-parallel version at TP 2 and 3 with uneven slices against one rank.
@Suite struct CrossEntropyTests {
    static let (tokens, vocabulary) = (6, 13)
    static let targets: [Int32] = [4, -100, 12, 0, 4, 7]
    /// Logits up to ±30: exp overflows in f32 without the max subtraction.
    static let logits = randomFloats(tokens * vocabulary, in: -30...30, seed: 90)

    static func lossDouble(_ logits: [Double], denominator: Int) -> Double {
        var sum = 0.0
        for t in 0..<tokens where targets[t] != -100 {
            let row = logits[(t * vocabulary)..<((t + 1) * vocabulary)]
            let m = row.max()!
            sum += log(row.reduce(0) { $0 + exp($1 - m) }) + m - logits[t * vocabulary + Int(targets[t])]
        }
        return sum / Double(denominator)
    }

    static func singleRank(denominator: Int? = nil) throws -> (CrossEntropyResult, [Float]) {
        var gradient = [Float](repeating: .nan, count: logits.count)
        let result = try logits.withUnsafeBufferPointer { lp in
            try targets.withUnsafeBufferPointer { tp in
                try gradient.withBase {
                    try CrossEntropy.lossAndGradient(logits: lp.baseAddress!, targets: tp.baseAddress!, logitGradient: $0,
                                                     tokens: tokens, vocabulary: vocabulary, denominator: denominator,
                                                     pool: testPools[1])
                }
            }
        }
        return (result, gradient)
    }

    /// Loss within 1e-6 relative of Double; dlogits within 1e-6 of central differences
    /// (the loss is a mean over 5 targets, gradients ≤ 0.2); ignored rows exactly zero.
    @Test(arguments: [nil, 20])
    func singleRankMatchesDoubleAndFiniteDifferences(denominator: Int?) throws {
        let (result, gradient) = try Self.singleRank(denominator: denominator)
        let d = denominator ?? 5
        let want = Self.lossDouble(Self.logits.map(Double.init), denominator: d)
        #expect(result.targetCount == 5)
        #expect(abs(result.loss - want) <= 1e-6 * abs(want))
        #expect(abs(result.lossSum - want * Double(d)) <= 1e-6 * abs(want * Double(d)))
        let fd = finiteDifferences(Self.logits, step: 1e-4) { Self.lossDouble($0, denominator: d) }
        #expect(scaledError(gradient, fd) < 1e-6)
        #expect(gradient[(1 * Self.vocabulary)..<(2 * Self.vocabulary)].allSatisfy { $0 == 0 })
    }

    @Test func targetOutsideVocabularyThrows() {
        var logits = [Float](repeating: 0, count: 2 * 4)
        let targets: [Int32] = [1, 4]
        #expect(throws: CrossEntropyError.targetOutOfRange(token: 1, target: 4, vocabulary: 4)) {
            try targets.withUnsafeBufferPointer { tp in
                try logits.withBase {
                    _ = try CrossEntropy.lossAndGradient(logits: $0, targets: tp.baseAddress!, logitGradient: $0,
                                                         tokens: 2, vocabulary: 4, pool: testPools[0])
                }
            }
        }
    }

    /// Every rank returns the one-rank loss (1e-6 relative) and the one-rank gradient's
    /// columns of its slice (1e-6 × max |gradient|).
    @Test(arguments: [[0..<7, 7..<13], [0..<6, 6..<10, 10..<13], [0..<1, 1..<12, 12..<13]])
    func vocabularyParallelEqualsOneRank(slices: [Range<Int>]) throws {
        let (single, singleGradient) = try Self.singleRank()
        let (tokens, vocabulary, targets, logits) = (Self.tokens, Self.vocabulary, Self.targets, Self.logits)
        let results = try LocalCommunicator.run(size: slices.count) { comm in
            let slice = slices[comm.rank]
            var local = (0..<tokens).flatMap { t in logits[(t * vocabulary + slice.lowerBound)..<(t * vocabulary + slice.upperBound)] }
            let pool = ThreadPool(threadCount: 1)
            let result = try targets.withUnsafeBufferPointer { tp in
                try local.withBase {
                    try VocabParallelCrossEntropy.lossAndGradient(logits: $0, targets: tp.baseAddress!, logitGradient: $0,
                                                                  tokens: tokens, slice: slice, vocabulary: vocabulary,
                                                                  group: comm, pool: pool)
                }
            }
            return (result, local)
        }
        let scale = Double(singleGradient.map { abs($0) }.max()!)
        for (rank, (result, gradient)) in results.enumerated() {
            let slice = slices[rank]
            #expect(abs(result.loss - single.loss) <= 1e-6 * abs(single.loss), "rank \(rank)")
            #expect(result.targetCount == single.targetCount)
            let want = (0..<tokens).flatMap { t in singleGradient[(t * vocabulary + slice.lowerBound)..<(t * vocabulary + slice.upperBound)] }
            #expect(scaledError(gradient, want.map(Double.init)) <= 1e-6 * max(1, scale), "rank \(rank)")
        }
    }

    /// A vocabulary wider than the 16-lane loops (203 = 12·16 + 11): one rank against Double
    /// softmax arithmetic, and TP 2 and 3 slices (cut off the 16-lane grid) against one rank.
    @Test func wideVocabularyMatchesDoubleAndOneRank() throws {
        let (tokens, vocabulary) = (5, 203)
        let targets: [Int32] = [202, 0, -100, 17, 150]
        let logits = randomFloats(tokens * vocabulary, in: -40...40, seed: 91)
        var gradient = [Float](repeating: .nan, count: logits.count)
        let pool = testPools[1]
        let single = try logits.withUnsafeBufferPointer { lp in try targets.withUnsafeBufferPointer { tp in
            try gradient.withBase {
                try CrossEntropy.lossAndGradient(logits: lp.baseAddress!, targets: tp.baseAddress!, logitGradient: $0,
                                                 tokens: tokens, vocabulary: vocabulary, pool: pool)
            }
        } }
        var lossSum = 0.0
        var want = [Double](repeating: 0, count: logits.count)
        for t in 0..<tokens where targets[t] != -100 {
            let row = logits[(t * vocabulary)..<((t + 1) * vocabulary)].map(Double.init)
            let m = row.max()!, z = row.reduce(0) { $0 + exp($1 - m) }
            lossSum += log(z) + m - row[Int(targets[t])]
            for j in 0..<vocabulary { want[t * vocabulary + j] = (exp(row[j] - m) / z - (j == Int(targets[t]) ? 1 : 0)) / 4 }
        }
        #expect(abs(single.loss - lossSum / 4) <= 1e-6 * lossSum / 4)
        #expect(scaledError(gradient, want) < 1e-7)
        for slices in [[0..<70, 70..<203], [0..<16, 16..<150, 150..<203]] {
            let results = try LocalCommunicator.run(size: slices.count) { comm in
                let slice = slices[comm.rank]
                var local = (0..<tokens).flatMap { t in logits[(t * vocabulary + slice.lowerBound)..<(t * vocabulary + slice.upperBound)] }
                let result = try targets.withUnsafeBufferPointer { tp in
                    try local.withBase {
                        try VocabParallelCrossEntropy.lossAndGradient(logits: $0, targets: tp.baseAddress!, logitGradient: $0,
                                                                      tokens: tokens, slice: slice, vocabulary: vocabulary,
                                                                      group: comm, pool: ThreadPool(threadCount: 1))
                    }
                }
                return (result.loss, local)
            }
            for (rank, (loss, local)) in results.enumerated() {
                let slice = slices[rank]
                #expect(abs(loss - single.loss) <= 1e-6 * single.loss, "rank \(rank) of \(slices.count)")
                let mine = (0..<tokens).flatMap { t in gradient[(t * vocabulary + slice.lowerBound)..<(t * vocabulary + slice.upperBound)] }
                #expect(scaledError(local, mine.map(Double.init)) < 1e-7, "rank \(rank) of \(slices.count)")
            }
        }
    }
}
