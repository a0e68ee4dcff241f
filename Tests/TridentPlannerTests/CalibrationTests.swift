import Foundation
import Testing
@testable import TridentPlanner

/// SmolLM2-135M as stored in SmolLM2-135M-Instruct.Q4_1.gguf: blocks in q4_1, the tied
/// embedding in q8_0.
private let smolFile = PlannerModel(name: "smollm2.gguf", configuration: Fixture.smol.configuration,
                                    mlp: .swiGLU, fileWeightFormat: .q4_1, vocabularyFormat: .q8_0)
private let engineFormats = InferenceWorkload(weightFormat: .q4_1, kvCacheFormat: .f32, activationFormat: .f32)

@Suite struct BenchParsingTests {
    let modelOutput = """
        loading model...
        {"decode_tokens":64,"decode_tokens_per_second":32,"peak_rss_bytes":135000000,"prefill_tokens_per_second":128,\
        "prompt_tokens":128,"ranks":[{"communication_seconds":1,"communication_share":0.1,"compute_seconds":9,\
        "peak_rss_bytes":135000000,"rank":0},{"communication_seconds":3,"communication_share":0.3,\
        "compute_seconds":7,"peak_rss_bytes":120000000,"rank":1}],"threads_per_rank":1,"tp":2}
        """

    @Test func modelBenchJSONBecomesAMeasuredRun() throws {
        let report = try ModelBenchReport.parse(modelOutput)
        #expect(report.tp == 2 && report.promptTokens == 128 && report.decodeTokens == 64)
        #expect(report.ranks.map(\.rank) == [0, 1])
        let run = report.measuredRun
        // Prefill 128 tokens at 128/s = 1 s, decode 64 at 32/s = 2 s: 64 tokens in 3 s.
        #expect(run.seconds == 3)
        #expect(abs(run.tokensPerSecond - 64.0 / 3) < 1e-12)
        #expect(run.decodeTokensPerSecond == 32 && run.prefillTokensPerSecond == 128)
        #expect(run.peakMemoryBytes == 135e6)
        #expect(run.communicationShare == 0.3)  // the busiest rank
    }

    @Test func concurrentSequencesCountInTheBatchTime() throws {
        let output = modelOutput.replacingOccurrences(of: "\"tp\":2}", with: "\"tp\":1,\"pp\":2,\"dp\":1,\"prompts\":4}")
        let report = try ModelBenchReport.parse(output)
        #expect(report.tp == 1 && report.pp == 2 && report.dp == 1 && report.prompts == 4)
        // Aggregate rates: 4 x 128 prompt tokens at 128/s = 4 s, 4 x 64 generated at 32/s = 8 s.
        #expect(report.measuredRun.seconds == 12)
        #expect(abs(report.measuredRun.tokensPerSecond - 256.0 / 12) < 1e-12)
        // A report without the fields is one sequence on a TP-only grid.
        let old = try ModelBenchReport.parse(modelOutput)
        #expect(old.pp == 1 && old.dp == 1 && old.prompts == 1)
    }

    @Test func modelBenchErrorsSayWhatWasWrong() {
        #expect(throws: BenchParseError.self) { try ModelBenchReport.parse("rank 1: connection refused\n") }
        do {
            _ = try ModelBenchReport.parse("{\"tp\":1}")
            Issue.record("a report without rates must not parse")
        } catch {
            guard case .malformed = error else { Issue.record("expected .malformed, got \(error)"); return }
        }
        let zero = modelOutput.replacingOccurrences(of: "\"decode_tokens_per_second\":32", with: "\"decode_tokens_per_second\":0")
        #expect(throws: BenchParseError.self) { try ModelBenchReport.parse(zero) }
    }

    @Test func allReduceFitRecoversLatencyAndBandwidth() throws {
        // seconds = 2 us + bytes / 2 GB/s.
        let results = [2000, 4000, 200_000].map {
            AllReduceBenchReport.Result(bytes: $0, seconds: 2e-6 + Double($0) / 2e9)
        }
        let link = try AllReduceBenchReport(results: results).fittedLink()
        #expect(abs(link.latency - 2e-6) < 1e-12)
        #expect(abs(link.bandwidth - 2e9) / 2e9 < 1e-9)
    }

    @Test func allReduceFitClampsNoise() throws {
        // A line through (1000, 0.1 us) and (2000, 1.2 us) has a negative intercept.
        let steep = AllReduceBenchReport(results: [.init(bytes: 1000, seconds: 0.1e-6), .init(bytes: 2000, seconds: 1.2e-6)])
        #expect(try steep.fittedLink().latency == 0)
        // Larger buffers no slower: latency = the smallest time, bandwidth = largest buffer / its time.
        let flat = AllReduceBenchReport(results: [.init(bytes: 1000, seconds: 3e-6), .init(bytes: 4000, seconds: 2e-6)])
        let link = try flat.fittedLink()
        #expect(link.latency == 2e-6 && link.bandwidth == 4000 / 2e-6)
    }

    @Test func allReduceParsingRejectsWrongSumsAndSingleSizes() throws {
        let output = """
            {"results":[{"bytes":2304,"seconds":3.4e-06,"algbw_gbps":0.68,"busbw_gbps":0.68,"algorithm":"shared-memory","correct":true},\
            {"bytes":4096,"seconds":4.4e-06,"algbw_gbps":0.93,"busbw_gbps":0.93,"algorithm":"shared-memory","correct":false}]}
            """
        #expect(throws: BenchParseError.incorrectResult(bytes: 4096)) { try AllReduceBenchReport.parse(output) }
        let single = try AllReduceBenchReport.parse(output.replacingOccurrences(of: "false", with: "true")
            .replacingOccurrences(of: "4096", with: "2304"))
        #expect(throws: BenchParseError.tooFewSizes(expected: 2, found: 1)) { try single.fittedLink() }
    }
}

@Suite struct CalibrationTests {
    @Test func fileFormatsGiveTheGGUFsWeightBytes() {
        // Blocks: q 576x576, k/v 192x576, o 576x576 at 360 B/row (18 q4_1 blocks of 20 B),
        // gate/up 1536x576 (360 B/row), down 576x1536 (960 B/row), 2 f32 norms:
        // 207360 + 2 x 69120 + 207360 + 2 x 552960 + 552960 + 4608 = 2216448 B x 30 layers;
        // embedding 49152 rows x 612 B (18 q8_0 blocks of 34 B); final norm 2304 B.
        // 96576768 is also the sum of the GGUF's tensor sizes.
        let workload = Workload.inference(engineFormats)
        let memory = MemoryModel.perDevice(model: smolFile, configuration: ParallelConfiguration(tensor: 1, pipeline: 1, data: 1),
                                           workload: workload)
        #expect(memory.weights == 2_216_448 * 30 + 49152 * 612 + 2304)
        #expect(memory.weights == 96_576_768)
    }

    @Test func singleDeviceWorkCountsWeightsKVAndFLOPs() {
        let workload = InferenceWorkload(batchSize: 1, promptLength: 128, outputLength: 128, weightFormat: .q4_1,
                                         kvCacheFormat: .f32, activationFormat: .f32)
        let work = SingleDeviceWork(model: smolFile, workload: workload)
        // KV: 2 x 192 f32 x 30 layers = 46080 B per position, read at the mean context of
        // 128 + 64 = 192 positions plus the one written.
        #expect(work.decodeBytes == 96_576_768 + 46080 * 193)
        // Prefill: 2 x 3538944 weights + 4 x 576 x 64.5 attention per token and layer,
        // x 30 layers x 128 tokens, plus the LM head on the last token (2 x 49152 x 576).
        let perTokenAndLayer: Double = 2 * 3_538_944 + 4 * 576 * 64.5
        let lmHead: Double = 2 * 49152 * 576
        #expect(work.prefillFLOPs == perTokenAndLayer * 30 * 128 + lmHead)
        #expect(work.prefillTokens == 128 && work.decodeTokens == 1)
    }

    @Test func cpuPassesAddComputeAndMemoryGPUsOverlapThem() {
        let link = Link(bandwidth: 1e9, latency: 0)
        var cluster = Cluster(deviceCount: 1, devicesPerNode: 1, memoryBytes: 1e9, flopsPerSecond: 1e9,
                              memoryBandwidth: 1e9, intraNode: link, interNode: link)
        #expect(cluster.passTime(flops: 2e9, bytes: 1e9) == 2)
        cluster.overlapsComputeAndMemory = false
        #expect(cluster.passTime(flops: 2e9, bytes: 1e9) == 3)
        #expect(!DevicePreset.cpuLocal.device.overlapsComputeAndMemory && DevicePreset.a100_80gb.device.overlapsComputeAndMemory)
    }

    @Test func calibratedRatesReproduceTheSingleRankRun() throws {
        let bench = ModelBenchReport(tp: 1, promptTokens: 128, decodeTokens: 128, prefillTokensPerSecond: 128,
                                     decodeTokensPerSecond: 10, peakRSSBytes: 1.3e8,
                                     ranks: [.init(rank: 0, peakRSSBytes: 1.3e8, communicationShare: 0)])
        let allReduce = AllReduceBenchReport(results: [.init(bytes: 2304, seconds: 3e-6), .init(bytes: 4096, seconds: 4e-6)])
        let calibration = try HostCalibration(model: smolFile, formats: engineFormats, singleRank: bench,
                                              allReduce: allReduce)
        // One 128-token prefill per second, 10 decode steps per second; each priced as
        // FLOPs / compute rate + bytes / bandwidth reproduces its measured time.
        let work = SingleDeviceWork(model: smolFile, workload: InferenceWorkload(
            batchSize: 1, promptLength: 128, outputLength: 128, weightFormat: .q4_1, kvCacheFormat: .f32,
            activationFormat: .f32))
        let f = calibration.flopsPerSecond, b = calibration.memoryBandwidth
        #expect(abs(work.prefillFLOPs / f + work.prefillBytes / b - 1) < 1e-9)
        #expect(abs(work.decodeFLOPs / f + work.decodeBytes / b - 0.1) < 1e-9)
        // Prefill is mostly arithmetic, decoding mostly memory: both rates sit just above the
        // single-measurement ones (27.8 GFLOP/s, 1.05 GB/s): decode spends ~10% of its step computing.
        #expect(f > 27_806_367_744 && f < 1.1 * 27_806_367_744)
        #expect(b > 1_054_702_080 && b < 1.2 * 1_054_702_080)
        #expect(abs(calibration.link.bandwidth - 1792 / 1e-6) < 1e-3)
        #expect(calibration.derivation.count == 2)
        let cluster = calibration.cluster(devices: 2, memoryBytes: 8e9)
        #expect(cluster.devicesPerNode == 2 && cluster.interNode == cluster.intraNode)
        let one = Evaluation(model: smolFile, cluster: calibration.cluster(devices: 1, memoryBytes: 8e9),
                             configuration: ParallelConfiguration(tensor: 1, pipeline: 1, data: 1),
                             workload: .inference(InferenceWorkload(promptLength: 128, outputLength: 128,
                                                                    weightFormat: .q4_1, kvCacheFormat: .f32,
                                                                    activationFormat: .f32)))
        #expect(abs(one.cost.decodeTokensPerSecond - 10) < 1e-9)
        // Two ranks read about half the bytes each but add 61 all-reduces and a logits gather.
        let two = Evaluation(model: smolFile, cluster: cluster, configuration: ParallelConfiguration(tensor: 2, pipeline: 1, data: 1),
                             workload: .inference(InferenceWorkload(promptLength: 128, outputLength: 128,
                                                                    weightFormat: .q4_1, kvCacheFormat: .f32,
                                                                    activationFormat: .f32)))
        #expect(two.cost.decodeTokensPerSecond > 15 && two.cost.decodeTokensPerSecond < 20)
        #expect(two.communication.items.first { $0.kind == .tensorAllReduce }?.occurrences == 60)
    }

    @Test func cpuLocalPresetUsesTheEnginesFloatFormatsOnOneNode() {
        let device = DevicePreset.cpuLocal.device
        #expect(device.singleNode && device.memoryBytes == nil)
        #expect(device.kvCacheFormat == .f32 && device.activationFormat == .f32)
        #expect(DevicePreset.a100_80gb.device.memoryBytes == 80e9)
    }
}

@Suite struct CollectiveProbeTests {
    let base = HostCalibration(flopsPerSecond: 1e10, memoryBandwidth: 1e9, link: Link(bandwidth: 2e9, latency: 3e-6))

    @Test func slowCollectivesBetweenComputingRanksRaiseTheLatency() throws {
        // 2304 B at 2 GB/s is 1.152 us of transfer; 201.152 us per collective leaves 200 us.
        let output = "{\"seconds_per_collective\":0.000201152,\"gap_seconds\":0.0002,\"bytes\":2304,\"iterations\":976}"
        let probe = try CollectiveProbeReport.parse(output)
        let adjusted = base.including(probe)
        #expect(abs(adjusted.link.latency - 200e-6) < 1e-12)
        #expect(adjusted.link.bandwidth == 2e9)
        #expect(adjusted.derivation.count == 1 && adjusted.derivation[0].contains("976 collectives"))
    }

    @Test func fastCollectivesKeepTheBackToBackLatency() {
        let probe = CollectiveProbeReport(secondsPerCollective: 2e-6, gapSeconds: 1e-4, bytes: 2304, iterations: 10)
        #expect(base.including(probe).link == base.link)
    }
}
