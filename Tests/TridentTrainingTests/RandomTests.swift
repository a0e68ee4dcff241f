import Foundation
import Testing
import TridentKernels
@testable import TridentTraining

/// Counter-based randomness: statistics, and shards that equal slices of the one-rank tensor.
@Suite struct RandomTests {
    /// 200 000 normals: mean within 0.01, standard deviation within 1%; uniforms in [0, 1) with mean 0.5 ± 0.005.
    @Test func distributions() {
        let random = CounterRandom(seed: 12)
        let normals = (0..<200_000).map { Double(random.normal(stream: 5, index: UInt64($0))) }
        let mean = normals.reduce(0, +) / Double(normals.count)
        let std = (normals.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(normals.count)).squareRoot()
        #expect(abs(mean) < 0.01 && abs(std - 1) < 0.01)
        let uniforms = (0..<200_000).map { random.uniform(stream: 6, index: UInt64($0)) }
        #expect(uniforms.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(abs(Double(uniforms.reduce(0, +)) / 200_000 - 0.5) < 0.005)
        #expect(random.bits(stream: 1, index: 0) != random.bits(stream: 2, index: 0))
        #expect(CounterRandom(seed: 13).bits(stream: 1, index: 0) != random.bits(stream: 1, index: 0))
    }

    /// A column-parallel (row slices) and a row-parallel (column slices, uneven) split of a
    /// [7, 10] weight reassemble the one-rank weight exactly.
    @Test func initialisationShardsAreSlicesOfOneRank() {
        let random = CounterRandom(seed: 1)
        let pool = testPools[1]
        func fill(_ rows: Range<Int>, _ columns: Range<Int>) -> [Float] {
            var out = [Float](repeating: .nan, count: rows.count * columns.count)
            out.withBase { ParameterInitializer.normal(into: $0, globalRows: 7, globalColumns: 10, rows: rows, columns: columns,
                                                       std: 0.02, random: random, stream: 4, pool: pool) }
            return out
        }
        let whole = fill(0..<7, 0..<10)
        #expect(fill(0..<4, 0..<10) + fill(4..<7, 0..<10) == whole)
        let left = fill(0..<7, 0..<6), right = fill(0..<7, 6..<10)
        var joined: [Float] = []
        for r in 0..<7 {
            joined += left[(r * 6)..<(r * 6 + 6)]
            joined += right[(r * 4)..<(r * 4 + 4)]
        }
        #expect(joined == whole)
        #expect(whole.allSatisfy { abs($0) < 0.02 * 6 })
        #expect(abs(ParameterInitializer.standardDeviation(isOutputProjection: true, layers: 8) - 0.005) < 1e-9)
    }

    /// Dropout: replicated tensors draw the same mask on every rank, a column shard draws its
    /// slice; kept values scaled by 1/(1−p); the backward uses the same mask.
    @Test func dropoutIsLayoutIndependent() {
        let (rows, width, p) = (6, 40, Float(0.25))
        let random = CounterRandom(seed: 2)
        let x = randomFloats(rows * width, in: 0.5...1.5, seed: 600)
        func run(_ input: [Float], _ columns: Range<Int>, backward: Bool = false) -> [Float] {
            var out = [Float](repeating: .nan, count: rows * columns.count)
            input.withUnsafeBufferPointer { xp in out.withBase {
                if backward {
                    Dropout.backward(xp.baseAddress!, inputGradient: $0, rows: rows, width: width, columns: columns, rowOffset: 3,
                                     probability: p, random: random, stream: 8, pool: testPools[1])
                } else {
                    Dropout.apply(xp.baseAddress!, out: $0, rows: rows, width: width, columns: columns, rowOffset: 3,
                                  probability: p, random: random, stream: 8, pool: testPools[1])
                }
            } }
            return out
        }
        let whole = run(x, 0..<width)
        let kept = whole.filter { $0 != 0 }.count
        #expect(kept > rows * width / 2 && kept < rows * width)
        #expect(zip(whole, x).allSatisfy { $0 == 0 || abs($0 - $1 / 0.75) <= 1e-6 * $0 })
        func columns13to29(_ a: [Float]) -> [Float] {
            var out: [Float] = []
            for r in 0..<rows { out += a[(r * width + 13)..<(r * width + 29)] }
            return out
        }
        let shard = run(columns13to29(x), 13..<29)
        #expect(shard == columns13to29(whole))
        #expect(run(x, 0..<width, backward: true) == whole)
    }
}
