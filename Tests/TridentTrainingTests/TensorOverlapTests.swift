import Foundation
import Testing
import TridentCollectives
import TridentKernels
import TridentModel
@testable import TridentTraining

/// `--tp-comm-overlap`: the tensor group's all-reduces run in the background (input gradients
/// during the weight gradient, the first half of a row-parallel forward's rows during the
/// second). The sums are the same, so the numbers must equal the blocking run's.
@Suite("Tensor-parallel communication overlap")
struct TensorOverlapTests {
    @Test("TP 2 (and TP 2 x PP 2): with the overlap equal to without it and to one rank; hidden seconds reported")
    func overlapMatchesBlocking() throws {
        let c = PipelineTrainingTests.model(), tokens = PipelineTrainingTests.tokens
        let configuration = try PipelineTrainingTests.configuration(accumulate: 2)
        let one = try runPipeline(c, configuration, tokens: tokens)
        for pp in [1, 2] {
            let blocking = try runPipeline(c, tp: 2, pp: pp, configuration, tokens: tokens)
            let overlapped = try runPipeline(c, tp: 2, pp: pp, tensorOverlap: true, configuration, tokens: tokens)
            // Two ranks: each element is a + b either way, and a half of the rows is multiplied as
            // those rows are within the whole, so the runs agree to round-off at most.
            Self.expectClose(overlapped, blocking, "PP \(pp)")
            expectSameAsOneRank(overlapped, one, weightTolerance: 5e-5)   // as the blocking TP runs are checked
            for step in overlapped.steps {
                #expect(step.hiddenTensorCommunicationSeconds >= 0 && step.exposedCommunicationSeconds >= 0,
                        "PP \(pp) step \(step.step)")
            }
            #expect(blocking.steps.allSatisfy { $0.hiddenTensorCommunicationSeconds == 0 })
        }
    }

    /// Loss and grad_norm within 1e-6 relative, and every tensor of every stage within 1e-6 of
    /// its largest value.
    static func expectClose(_ run: PipelineRun, _ reference: PipelineRun, _ what: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        for (x, y) in zip(run.steps, reference.steps) {
            #expect(abs(x.loss - y.loss) <= 1e-6 * abs(y.loss) && abs(x.gradientNorm - y.gradientNorm) <= 1e-6 * y.gradientNorm,
                    "\(what) step \(x.step): loss \(x.loss) vs \(y.loss)", sourceLocation: sourceLocation)
        }
        #expect(run.stageWeights.count == reference.stageWeights.count && run.steps.count == reference.steps.count)
        for (weights, expected) in zip(run.stageWeights, reference.stageWeights) {
            #expect(Set(weights.keys) == Set(expected.keys) && !weights.isEmpty, sourceLocation: sourceLocation)
            for (name, values) in weights {
                guard let other = expected[name], other.count == values.count else { continue }
                let scale = max(other.map { abs($0) }.max() ?? 0, 1e-30)
                let error = zip(values, other).map { abs($0 - $1) }.max() ?? 0
                #expect(Double(error / scale) <= 1e-6, "\(what): \(name) off by \(error / scale) of its largest value",
                        sourceLocation: sourceLocation)
            }
        }
    }

    @Test("the halves: each half reduced as soon as it is computed; an all-reduce error surfaces after the work")
    func halvesAndErrors() throws {
        let rows = 5, columns = 3
        let results = try LocalCommunicator.run(size: 2) { group -> ([Float], Double, Bool) in
            let overlap = TensorParallelOverlap()
            var output = [Float](repeating: 0, count: rows * columns)
            var computed: [Range<Int>] = []
            try output.withUnsafeMutableBufferPointer { out in
                try overlap.computeAndReduceInHalves(rows: rows, columns: columns, output: out, group: group) { half in
                    computed.append(half)
                    for r in half { for c in 0..<columns { out[r * columns + c] = Float((group.rank + 1) * (r * columns + c)) } }
                }
            }
            #expect(computed == [0..<2, 2..<5])
            var gradient: [Float] = [Float(group.rank + 1), 10]
            var workRan = false
            try gradient.withUnsafeMutableBufferPointer { g in
                try overlap.allReduce(g, group: group) { workRan = true }
            }
            #expect(gradient == [3, 20])
            return (output, overlap.communicationSeconds, workRan)
        }
        for (output, seconds, workRan) in results {
            #expect(output == (0..<(rows * columns)).map { Float(3 * $0) }, "rank 1 + rank 2 multiples")
            #expect(seconds > 0 && workRan)
        }
        // A group whose peer never joins: the error (a deadline) is thrown once the work is done.
        let lonely = try LocalCommunicator.run(size: 2, options: CommunicatorOptions(operationTimeout: .milliseconds(300))) { group -> String in
            guard group.rank == 0 else { return "" }
            let overlap = TensorParallelOverlap()
            var buffer: [Float] = [1, 2]
            var workRan = false
            do {
                try buffer.withUnsafeMutableBufferPointer { try overlap.allReduce($0, group: group) { workRan = true } }
                return "no error"
            } catch {
                return workRan ? "\(error)" : "work skipped"
            }
        }
        #expect(!lonely[0].isEmpty && lonely[0] != "no error" && lonely[0] != "work skipped", "\(lonely[0])")
    }
}
