import Foundation
import Testing
@testable import TridentPlanner

/// Trident's float32 training memory model and `trident bench train --json` lines fed to the planner.
@Suite("Training measurements")
struct TrainingMeasurementTests {
    static let single = ParallelConfiguration(tensor: 1, pipeline: 1, data: 1)

    /// SmolLM2-135M's shapes, written out: hidden, query and KV widths, MLP columns, heads,
    /// vocabulary, layers, and its parameter count (tied embedding, no biases).
    struct Shapes {
        let h = 576, q = 9 * 64, kv = 3 * 64, ffn = 1536, heads = 9, vocabulary = 49152, layers = 30
        var perBlock: Int { h * q + 2 * h * kv + q * h + 3 * h * ffn + 2 * h }   // q, k, v, o; gate, up, down; 2 norms
        var parameters: Double { Double(vocabulary * h + layers * perBlock + h) }  // + final norm
        /// Floats one token keeps per block: x, both norm outputs, h (4 hidden), Q and the
        /// attention output, K and V, one log-sum-exp per head, gate, up and their product.
        var blockFloats: Int { 4 * h + 2 * q + 2 * kv + heads + 3 * ffn }
        /// The head: its input, the final norm's output and the logit gradient.
        var headFloats: Int { 2 * h + vocabulary }
    }

    @Test("trident's workload: f32 weights, gradients and two AdamW moments (16 bytes per parameter); activations from the shapes")
    func float32MemoryModel() {
        let s = Shapes(), model = Fixture.smol
        #expect(Double(model.parameterCount) == s.parameters)
        let tokens = 2 * 256
        for recompute in [false, true] {
            let w = TrainingWorkload.trident(globalBatchSize: 8, microBatchSize: 2, sequenceLength: 256,
                                             recomputeActivations: recompute)
            #expect(!w.mixedPrecision && w.computeBytes == 4 && w.optimizer == .adam)
            let m = MemoryModel.perDevice(model: model, configuration: Self.single, workload: .training(w))
            #expect(m.weights == 4 * s.parameters && m.gradients == 4 * s.parameters)
            #expect(m.optimizerStates == 8 * s.parameters && m.kvCache == 0)
            let block = recompute ? s.h : s.blockFloats
            #expect(m.activations == Double(tokens * (s.layers * block + s.headFloats) * 4), "recompute \(recompute)")
        }
        // ZeRO-1 over 2 replicas halves the moments and nothing else.
        let dp2 = ParallelConfiguration(tensor: 1, pipeline: 1, data: 2)
        let plain = MemoryModel.perDevice(model: model, configuration: dp2, workload: .training(
            .trident(globalBatchSize: 8, microBatchSize: 2, sequenceLength: 256)))
        let zero = MemoryModel.perDevice(model: model, configuration: dp2, workload: .training(
            .trident(globalBatchSize: 8, microBatchSize: 2, sequenceLength: 256, shardOptimizerStates: true)))
        #expect(zero.optimizerStates * 2 == plain.optimizerStates && zero.weights == plain.weights)
        #expect(plain.optimizerStates == 8 * s.parameters)
    }

    @Test("peak saved activations under 1F1B: stage 0 holds min(M, P) micro-batches, the last one")
    func pipelinePeak() {
        let s = Shapes(), model = Fixture.smol
        let w = TrainingWorkload.trident(globalBatchSize: 8, microBatchSize: 2, sequenceLength: 256)
        let pp2 = ParallelConfiguration(tensor: 1, pipeline: 2, data: 1)
        let tokens = 2 * 256
        let first = Double(tokens * 15 * s.blockFloats * 4), last = Double(tokens * (15 * s.blockFloats + s.headFloats) * 4)
        #expect(MemoryModel.peakTrainingActivations(model: model, configuration: pp2, workload: w) == max(2 * first, last))
        #expect(MemoryModel.peakTrainingActivations(model: model, configuration: Self.single, workload: w)
            == Double(tokens * (30 * s.blockFloats + s.headFloats) * 4))
    }

    static let summary = """
        {"steps":3,"tokens":3072,"seconds":1.5,"tokens_per_second":2048,"peak_rss_bytes":900000000,"tp":1,"pp":2,"dp":1,\
        "seq_len":256,"micro_batch":2,"accumulate":3,"recompute":true,"schedule":"1f1b","mean_idle_fraction":0.3,\
        "predicted_bubble":0.25,"ranks":[{"rank":0,"tp":0,"pp":0,"dp":0,"peak_rss_bytes":800000000,"window_seconds":1.5,\
        "exposed_communication_seconds":0.375,"idle_fraction":0.3,"peak_activation_micro_batches":2,"peak_activation_bytes":1000},\
        {"rank":1,"tp":0,"pp":1,"dp":0,"peak_rss_bytes":900000000,"window_seconds":1.5,"exposed_communication_seconds":0.15,\
        "idle_fraction":0.3,"peak_activation_micro_batches":1,"peak_activation_bytes":3000}]}
        """

    @Test("a train --json transcript: step lines skipped, the summary read as trident's f32 workload on its grid")
    func parsesSummaryLines() throws {
        let text = """
            {"step":1,"loss":3.5,"grad_norm":1.2,"lr":0.001,"tokens":1024,"seconds":0.5}
            some log line
            \(Self.summary)
            \(Self.summary.replacingOccurrences(of: "\"recompute\":true", with: "\"recompute\":false"))
            """
        let runs = try TrainingMeasurement.parse(text, source: "runs.jsonl")
        #expect(runs.count == 2 && runs[0].recompute && !runs[1].recompute)
        let run = runs[0]
        #expect(run.configuration == ParallelConfiguration(tensor: 1, pipeline: 2, data: 1))
        #expect(run.workload == .trident(globalBatchSize: 6, microBatchSize: 2, sequenceLength: 256,
                                         recomputeActivations: true))
        #expect(run.peakActivationBytes == 3000 && run.schedule == "1f1b" && run.zero == 0)
        let measured = run.measuredRun
        #expect(measured.tokensPerSecond == 2048 && measured.seconds == 0.5 && measured.peakMemoryBytes == 900_000_000)
        #expect(measured.communicationShare == 0.25)
        // Priced on its own two-device grid, whatever the cluster's size.
        let comparison = TrainingComparison(model: Fixture.smol, cluster: Fixture.a100(devices: 8), measurement: run)
        #expect(comparison.evaluation.configuration == run.configuration)
        #expect(comparison.activationRatio == 3000 / comparison.predictedPeakActivationBytes)
        #expect(comparison.tokensRatio == 2048 / comparison.evaluation.cost.tokensPerSecond)
        #expect(comparison.note == nil)
        #expect(TrainingComparison.renderTable([comparison]).contains("TP=1 x PP=2 x DP=1 1f1b"))
    }

    @Test("no summary line, missing layout fields and a rank count off the grid are refused")
    func refusesBadLines() {
        #expect(throws: BenchParseError.self) { try TrainingMeasurement.parse("{\"step\":1}\nhello", source: "x") }
        let old = Self.summary.replacingOccurrences(of: "\"seq_len\":256,", with: "")
        #expect(throws: BenchParseError.self) { try TrainingMeasurement.parse(old, source: "x") }
        let wrongGrid = Self.summary.replacingOccurrences(of: "\"pp\":2,\"dp\":1", with: "\"pp\":3,\"dp\":1")
        #expect(throws: BenchParseError.self) { try TrainingMeasurement.parse(wrongGrid, source: "x") }
        let zeroRate = Self.summary.replacingOccurrences(of: "\"tokens_per_second\":2048", with: "\"tokens_per_second\":0")
        #expect(throws: BenchParseError.self) { try TrainingMeasurement.parse(zeroRate, source: "x") }
    }
}
