import Foundation
import Testing
import TridentCollectives
import TridentModel
@testable import TridentTraining

@Suite("ZeRO-1: sharded AdamW moments equal plain data parallelism")
struct ZeroOneTests {
    /// Settings with small buckets (512 floats: many buckets, slices that split parameters) or
    /// one big bucket, clipping on (the global norm must come out the same from the slices).
    static func configuration(microBatch: Int = 2, accumulate: Int = 2, bucketBytes: Int = 2048) throws -> TrainingConfiguration {
        var c = try PipelineTrainingTests.configuration(microBatch: microBatch, accumulate: accumulate, steps: 3, clip: 0.5)
        c.bucketBytes = bucketBytes
        return c
    }

    /// ZeRO-1 and plain DP on the same grid: the same loss and grad_norm (1e-6 relative), every
    /// replica's every tensor within 1e-6 of its largest value, and every replica of a ZeRO run
    /// holding exactly the same weights after the all-gather. Returns whether losses and weights are bit-equal.
    @discardableResult
    static func expectSame(_ zero: ZeroRun, _ plain: ZeroRun, weightTolerance: Double = 1e-6, normTolerance: Double = 1e-12,
                           sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        #expect(zero.sharded && !plain.sharded, sourceLocation: sourceLocation)
        #expect(zero.steps.count == plain.steps.count && zero.steps.count == 3, sourceLocation: sourceLocation)
        var bitEqual = true
        for (x, y) in zip(zero.steps, plain.steps) {
            #expect(abs(x.loss - y.loss) <= 1e-6 * abs(y.loss), "step \(x.step) loss \(x.loss) vs \(y.loss)", sourceLocation: sourceLocation)
            #expect(abs(x.gradientNorm - y.gradientNorm) <= 1e-6 * y.gradientNorm,
                    "step \(x.step) grad norm \(x.gradientNorm) vs \(y.gradientNorm)", sourceLocation: sourceLocation)
            // The norm is summed in another order (slices), so it agrees to about 1e-15, not bit for bit.
            #expect(abs(x.gradientNorm - y.gradientNorm) <= normTolerance * y.gradientNorm, sourceLocation: sourceLocation)
            bitEqual = bitEqual && x.loss == y.loss
        }
        for (stage, replicas) in zero.weights.enumerated() {
            let reference = plain.weights[stage][0]
            #expect(!reference.isEmpty && Set(replicas[0].keys) == Set(reference.keys), sourceLocation: sourceLocation)
            for (replica, weights) in replicas.enumerated() {
                #expect(weights == replicas[0], "stage \(stage): replica \(replica) differs from replica 0 after the all-gather",
                        sourceLocation: sourceLocation)
                for (name, values) in weights {
                    guard let expected = reference[name] else { continue }
                    let error = errorRelativeToMax(values, expected)
                    #expect(error <= weightTolerance, "stage \(stage) replica \(replica): \(name) differs by \(error) of its largest value",
                            sourceLocation: sourceLocation)
                    bitEqual = bitEqual && values == expected
                }
            }
        }
        return bitEqual
    }

    /// Per (tp, pp) position, the replicas' moment bytes add up to plain DP's (every element's
    /// moments held exactly once) and each holds at most ⌈1/D⌉ of them plus one element per bucket.
    static func expectShardedState(_ zero: ZeroRun, _ plain: ZeroRun, layout: ParallelLayout, buckets: Int,
                                   sourceLocation: SourceLocation = #_sourceLocation) {
        let positions = layout.tensor * layout.pipeline
        for position in 0..<positions {
            let ranks = (0..<layout.data).map { position + $0 * positions }
            let total = ranks.reduce(0) { $0 + zero.stateBytes[$1] }
            #expect(total == plain.stateBytes[position], "position \(position): \(total) vs \(plain.stateBytes[position])",
                    sourceLocation: sourceLocation)
            for rank in ranks {
                #expect(zero.stateBytes[rank] <= plain.stateBytes[position] / layout.data + 8 * buckets,
                        "rank \(rank) holds \(zero.stateBytes[rank]) bytes of moments", sourceLocation: sourceLocation)
            }
        }
    }

    @Test("DP 2 and DP 3 (uneven slices), small buckets and one big bucket, threads and TCP", arguments: TestBackend.allCases)
    func dataParallel(backend: TestBackend) throws {
        let model = ZeroModel.random(PipelineTrainingTests.model()), tokens = PipelineTrainingTests.tokens
        for dp in [2, 3] {
            for bucketBytes in [2048, 25 << 20] {
                let c = try Self.configuration(bucketBytes: bucketBytes)
                let plain = try runZero(model, dp: dp, zero: .off, backend: backend, c, tokens: tokens)
                let zero = try runZero(model, dp: dp, zero: .optimizerStates, backend: backend, c, tokens: tokens)
                if dp == 2 {
                    // a + b == b + a: the reduce-scatter gives plain DP's all-reduced gradients bit for bit.
                    #expect(Self.expectSame(zero, plain), "ZeRO-1 at DP 2 should be bit-equal to plain DP")
                } else {
                    // Three replicas' gradients may be added in another order than plain DP's all-reduce
                    // (a sliced or ring all-reduce), and AdamW amplifies that round-off where a gradient is
                    // near eps: about 1.3e-6 of a tensor's largest weight after 3 steps.
                    Self.expectSame(zero, plain, weightTolerance: 5e-6, normTolerance: 1e-7)
                }
                Self.expectShardedState(zero, plain, layout: try ParallelLayout(tensor: 1, pipeline: 1, data: dp), buckets: 64)
            }
        }
    }

    @Test("TP 2 x DP 2 and PP 2 x DP 2 (tied embedding on both ends), threads and TCP", arguments: TestBackend.allCases)
    func modelParallel(backend: TestBackend) throws {
        let model = ZeroModel.random(PipelineTrainingTests.model()), tokens = PipelineTrainingTests.tokens
        for (tp, pp) in [(2, 1), (1, 2)] {
            let c = try Self.configuration()
            let plain = try runZero(model, tp: tp, pp: pp, dp: 2, zero: .off, backend: backend, c, tokens: tokens)
            let zero = try runZero(model, tp: tp, pp: pp, dp: 2, zero: .optimizerStates, backend: backend, c, tokens: tokens)
            Self.expectSame(zero, plain)
            Self.expectShardedState(zero, plain, layout: try ParallelLayout(tensor: tp, pipeline: pp, data: 2), buckets: 64)
        }
    }

    @Test("TP 2 x PP 2 x DP 3 with ZeRO-1 equals plain DP")
    func cube() throws {
        let model = ZeroModel.random(PipelineTrainingTests.model()), tokens = PipelineTrainingTests.tokens
        let c = try Self.configuration(microBatch: 1)
        let plain = try runZero(model, tp: 2, pp: 2, dp: 3, zero: .off, c, tokens: tokens)
        let zero = try runZero(model, tp: 2, pp: 2, dp: 3, zero: .optimizerStates, c, tokens: tokens)
        Self.expectSame(zero, plain)
    }

    @Test("--zero 1 on one replica takes the plain path (no sharding, the same numbers)")
    func oneReplica() throws {
        let model = ZeroModel.random(PipelineTrainingTests.model()), tokens = PipelineTrainingTests.tokens
        let c = try Self.configuration()
        let plain = try runZero(model, dp: 1, zero: .off, c, tokens: tokens)
        let zero = try runZero(model, dp: 1, zero: .optimizerStates, c, tokens: tokens)
        #expect(!zero.sharded)
        #expect(zero.steps.map(\.loss) == plain.steps.map(\.loss) && zero.weights == plain.weights)
    }
}
