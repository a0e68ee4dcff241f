import Foundation
import Testing
import TridentCollectives
import TridentKernels
import TridentModel
@testable import TridentTraining

/// Activation recomputation (`--recompute`): a forward keeps only each block's input; the
/// backward runs the block's forward again from it. The same kernels run on the same inputs in
/// the same order, so every number must be bit-equal to a run that keeps the contexts.
@Suite("Activation recomputation")
struct RecomputeTests {
    /// Loss, grad_norm and every weight after the run's steps, bit for bit.
    static func expectBitEqual(_ run: PipelineRun, _ reference: PipelineRun, _ what: String,
                               sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(run.steps.count == reference.steps.count, sourceLocation: sourceLocation)
        for (x, y) in zip(run.steps, reference.steps) {
            #expect(x.loss == y.loss && x.gradientNorm == y.gradientNorm,
                    "\(what) step \(x.step): loss \(x.loss) vs \(y.loss), grad norm \(x.gradientNorm) vs \(y.gradientNorm)",
                    sourceLocation: sourceLocation)
        }
        #expect(run.stageWeights.count == reference.stageWeights.count, sourceLocation: sourceLocation)
        for (s, (weights, expected)) in zip(run.stageWeights, reference.stageWeights).enumerated() {
            #expect(Set(weights.keys) == Set(expected.keys) && !weights.isEmpty, sourceLocation: sourceLocation)
            for (name, values) in weights where values != expected[name] {
                Issue.record("\(what) stage \(s): \(name) differs after \(run.steps.count) steps", sourceLocation: sourceLocation)
            }
        }
    }

    /// Bytes one micro-batch of `rows` rows saves on tensor rank 0 of a stage holding `blocks`
    /// blocks (and the head when `last`), from the shapes of what the layers keep (f32):
    /// - a block's context: its input x, both norm outputs, the middle residual h (4 x hidden),
    ///   rotated Q and the attention output (2 x local q), K and V (2 x local kv), one
    ///   log-sum-exp per local head, and the MLP's gate, up and gated product (3 x local ffn);
    /// - recomputed: the block's input x only (hidden);
    /// - the head: its input, the final norm's output (2 x hidden) and the logit gradient
    ///   (local vocabulary).
    static func expectedBytes(_ c: ModelConfiguration, tp: Int, rows: Int, blocks: Int, last: Bool,
                              recompute: Bool) throws -> Int {
        let plan = try ShardingPlan(configuration: c, tensorParallelSize: tp, rank: 0)
        let q = plan.queryHeads.count * c.headDimension, kv = plan.kvHeads.count * c.headDimension
        let ffn = plan.mlpColumns.count
        let block = recompute ? c.hiddenSize : 4 * c.hiddenSize + 2 * q + 2 * kv + plan.queryHeads.count + 3 * ffn
        let head = last ? 2 * c.hiddenSize + plan.vocabularyRows.count : 0
        return rows * (blocks * block + head) * MemoryLayout<Float>.stride
    }

    @Test("one rank and TP 2: loss, grad_norm and weights after 3 AdamW steps bit-equal; saved bytes as the shapes say")
    func wholeModel() throws {
        let c = PipelineTrainingTests.model(), tokens = PipelineTrainingTests.tokens
        let configuration = try PipelineTrainingTests.configuration(accumulate: 2)
        let rows = configuration.microBatch * configuration.sequenceLength
        for tp in [1, 2] {
            let kept = try runPipeline(c, tp: tp, configuration, tokens: tokens)
            let recomputed = try runPipeline(c, tp: tp, recompute: true, configuration, tokens: tokens)
            Self.expectBitEqual(recomputed, kept, "TP \(tp)")
            let full = try Self.expectedBytes(c, tp: tp, rows: rows, blocks: c.layerCount, last: true, recompute: false)
            let input = try Self.expectedBytes(c, tp: tp, rows: rows, blocks: c.layerCount, last: true, recompute: true)
            #expect(kept.peakSaved[0].microBatches == 1 && recomputed.peakSaved[0].microBatches == 1)
            #expect(kept.peakSaved[0].bytes == full, "TP \(tp): kept \(kept.peakSaved[0].bytes), shapes say \(full)")
            #expect(recomputed.peakSaved[0].bytes == input, "TP \(tp): recomputed \(recomputed.peakSaved[0].bytes), shapes say \(input)")
            #expect(input < full)
        }
    }

    @Test("PP 2 1F1B (and x DP 2): bit-equal; each stage's peak shrinks by its own block/head factor")
    func pipeline() throws {
        let c = PipelineTrainingTests.model(), tokens = PipelineTrainingTests.tokens
        let configuration = try PipelineTrainingTests.configuration(accumulate: 4)
        let rows = configuration.microBatch * configuration.sequenceLength
        let ranges = try StagePartition.balanced(configuration: c, stages: 2).ranges
        for dp in [1, 2] {
            let kept = try runPipeline(c, pp: 2, dp: dp, schedule: .oneFOneB, configuration, tokens: tokens)
            let recomputed = try runPipeline(c, pp: 2, dp: dp, schedule: .oneFOneB, recompute: true, configuration,
                                             tokens: tokens)
            Self.expectBitEqual(recomputed, kept, "PP 2 x DP \(dp)")
            for s in 0..<2 {
                // The schedule holds the same micro-batches; each is smaller.
                let held = kept.peakSaved[s].microBatches
                #expect(recomputed.peakSaved[s].microBatches == held && held == min(4, 2 - s))
                let blocks = ranges[s].count, last = s == 1
                let full = try Self.expectedBytes(c, tp: 1, rows: rows, blocks: blocks, last: last, recompute: false)
                let input = try Self.expectedBytes(c, tp: 1, rows: rows, blocks: blocks, last: last, recompute: true)
                #expect(kept.peakSaved[s].bytes == held * full, "stage \(s): \(kept.peakSaved[s]) vs \(held) x \(full)")
                #expect(recomputed.peakSaved[s].bytes == held * input, "stage \(s): \(recomputed.peakSaved[s]) vs \(held) x \(input)")
            }
        }
    }

    @Test("interleaved 1F1B (PP 2 x V 2, M = 4) and TP 2 x PP 2: bit-equal, less saved on every rank")
    func interleavedAndGrid() throws {
        let c = PipelineTrainingTests.model(layers: 6), tokens = PipelineTrainingTests.tokens
        let configuration = try PipelineTrainingTests.configuration(accumulate: 4)
        let kept = try runPipeline(c, pp: 2, schedule: .interleaved, virtualStages: 2, configuration, tokens: tokens)
        let recomputed = try runPipeline(c, pp: 2, schedule: .interleaved, virtualStages: 2, recompute: true,
                                         configuration, tokens: tokens)
        Self.expectBitEqual(recomputed, kept, "interleaved")
        for s in 0..<2 {
            #expect(recomputed.peakSaved[s].microBatches == kept.peakSaved[s].microBatches)
            #expect(recomputed.peakSaved[s].bytes < kept.peakSaved[s].bytes && recomputed.peakSaved[s].bytes > 0)
        }
        let grid = try runPipeline(c, tp: 2, pp: 2, configuration, tokens: tokens)
        Self.expectBitEqual(try runPipeline(c, tp: 2, pp: 2, recompute: true, configuration, tokens: tokens), grid,
                            "TP 2 x PP 2")
    }

    @Test("dropout masks are drawn again alike: gradients with p = 0.2 bit-equal")
    func dropout() throws {
        let c = PipelineTrainingTests.model(seedStyle: true)
        let sequences = (0..<2).map { i in Array(PipelineTrainingTests.tokens[(i * 9)..<(i * 9 + 9)]) }
        func gradients(recompute: Bool) throws -> ([Float], Double) {
            let model = try LlamaTrainingModel(configuration: c, seed: 7, group: LocalCommunicator.makeGroup(size: 1)[0],
                                               pool: ThreadPool(threadCount: 1))
            model.dropoutProbability = 0.2
            model.dropoutSeed = 11
            model.dropoutPosition = (step: 2, firstSequence: 0)
            model.recomputeActivations = recompute
            let loss = try model.accumulateGradients(sequences: sequences, denominator: 16).lossSum
            return (model.parameters.flatMap { Array($0.gradient) }, loss)
        }
        let (kept, keptLoss) = try gradients(recompute: false)
        let (recomputed, recomputedLoss) = try gradients(recompute: true)
        #expect(recomputedLoss == keptLoss)
        #expect(recomputed == kept)
        #expect(kept.contains { $0 != 0 })
    }
}
