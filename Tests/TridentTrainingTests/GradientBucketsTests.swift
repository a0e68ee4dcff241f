import Testing
import TridentCollectives
@testable import TridentTraining

/// Data-parallel buckets: layout in reverse forward order, and the mean over DP 2 and 3
/// replicas against arithmetic, with parameters marked ready in a scrambled order.
@Suite struct GradientBucketsTests {
    @Test func bucketsFollowReverseForwardOrder() throws {
        let comm = LocalCommunicator.makeGroup(size: 1)[0]
        // Reverse order 40, 30 | 20, 10 with 200-byte buckets: a bucket closes at >= 50 floats.
        let buckets = GradientBuckets(parameterSizes: [10, 20, 30, 40], bucketBytes: 200, group: comm)
        #expect(buckets.bucketParameters == [[3, 2], [1, 0]])
        #expect(buckets.gradient(of: 3).count == 40 && buckets.gradient(of: 0).count == 10)
        #expect(buckets.gradient(of: 2).baseAddress == buckets.gradient(of: 3).baseAddress! + 40)
        for p in [3, 2, 1, 0] { buckets.markReady(p) }
        _ = try buckets.finish()
    }

    /// Every replica's gradients equal the mean (or sum) of all replicas' (Double arithmetic, 1e-6 scaled),
    /// over two steps (the marks reset), with 512-byte buckets.
    @Test(arguments: [2, 3], [GradientBuckets.Reduction.mean, .sum])
    func averagesOverReplicas(size: Int, reduction: GradientBuckets.Reduction) throws {
        let sizes = [7, 300, 1, 64, 129]
        let order = [4, 2, 3, 0, 1]          // not the bucket order: starts must still be in order
        let results = try LocalCommunicator.run(size: size) { comm in
            let buckets = GradientBuckets(parameterSizes: sizes, bucketBytes: 512, group: comm, reduction: reduction)
            var perStep: [[[Float]]] = []
            for step in 0..<2 {
                buckets.zeroGradients()
                for p in order {
                    let g = buckets.gradient(of: p)
                    let values = randomFloats(sizes[p], seed: UInt64(1000 * step + 10 * comm.rank + p))
                    for i in 0..<g.count { g[i] += values[i] }
                    buckets.markReady(p)
                }
                let exposed = try buckets.finish()
                #expect(exposed >= .zero)
                #expect(buckets.lastCommunicationTime > .zero)
                perStep.append(sizes.indices.map { Array(buckets.gradient(of: $0)) })
            }
            return perStep
        }
        for step in 0..<2 {
            for p in sizes.indices {
                let inputs = (0..<size).map { randomFloats(sizes[p], seed: UInt64(1000 * step + 10 * $0 + p)) }
                let mean = (0..<sizes[p]).map { i in inputs.reduce(0.0) { $0 + Double($1[i]) } / Double(reduction == .mean ? size : 1) }
                for rank in 0..<size {
                    #expect(scaledError(results[rank][step][p], mean) < 1e-6, "rank \(rank) step \(step) parameter \(p)")
                }
            }
        }
    }
}
