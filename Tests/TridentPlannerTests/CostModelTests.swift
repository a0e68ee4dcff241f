import Testing
@testable import TridentPlanner

@Suite struct CostModelTests {
    let link = Link(bandwidth: 100e9, latency: 5e-6)

    @Test func ringAllReduceAlphaBeta() {
        // 4 ranks, 1 GB: 2 x 3/4 x 1e9 / 1e11 + 6 x 5e-6 = 0.015 + 0.00003 s.
        #expect(abs(CollectiveCost.ringAllReduce(bytes: 1e9, ranks: 4, link: link) - 0.01503) < 1e-12)
        #expect(CollectiveCost.ringAllReduce(bytes: 1e9, ranks: 1, link: link) == 0)
    }

    @Test func recursiveDoublingForSmallMessagesRingForLarge() {
        // 8 ranks, 1 kB: doubling 3 x (5us + 10ns) beats ring 14 x 5us.
        let (small, smallTime) = CollectiveCost.allReduce(bytes: 1e3, ranks: 8, link: link)
        #expect(small == .recursiveDoubling)
        #expect(abs(smallTime - 3 * (5e-6 + 1e-8)) < 1e-12)
        let (large, _) = CollectiveCost.allReduce(bytes: 1e9, ranks: 8, link: link)
        #expect(large == .ring)
        // 6 ranks is not a power of two: floor(log2 6) + 2 = 4 exchanges.
        #expect(abs(CollectiveCost.recursiveDoublingAllReduce(bytes: 0, ranks: 6, link: link) - 4 * 5e-6) < 1e-15)
    }

    @Test func bytesSentPerRankFollowTheAlgorithm() {
        #expect(CollectiveCost.allReduceBytesSentPerRank(.ring, bytes: 1e9, ranks: 4) == 1.5e9)
        #expect(CollectiveCost.allReduceBytesSentPerRank(.recursiveDoubling, bytes: 1e3, ranks: 8) == 3e3)
        #expect(CollectiveCost.allReduceBytesSentPerRank(.ring, bytes: 1e9, ranks: 1) == 0)
    }

    @Test func bubbleIsPMinusOneOverMPlusPMinusOne() {
        let stage = StageTime(compute: 1, communication: 0)
        let timing = PipelineTiming(stages: Array(repeating: stage, count: 4), microBatches: 8)
        #expect(timing.flushedTime == 11)
        #expect((timing.flushedTime - timing.busyTime) / timing.flushedTime == 3.0 / 11)
        // Steady decoding with fewer micro-batches than stages idles (P - M) / P.
        let decode = PipelineTiming(stages: Array(repeating: stage, count: 4), microBatches: 1)
        #expect(decode.steadyRoundTime == 4 && decode.busyTime == 1)
    }

    @Test func memoryBoundDecodeReadsEveryWeightOncePerToken() {
        // Huge FLOP rate: decode time per token is (weights + KV read and written) / bandwidth.
        let cluster = Cluster(deviceCount: 1, devicesPerNode: 1, memoryBytes: 1e12, flopsPerSecond: 1e18,
                              memoryBandwidth: 100e9, intraNode: link, interNode: link)
        let w = InferenceWorkload(batchSize: 1, promptLength: 100, outputLength: 100, weightFormat: .f16)
        let (estimate, analysis) = InferenceCostModel.estimate(
            model: Fixture.llama7b, cluster: cluster, configuration: ParallelConfiguration(tensor: 1, pipeline: 1, data: 1),
            workload: w)
        let weights = MemoryModel.perDevice(model: Fixture.llama7b, configuration: ParallelConfiguration(tensor: 1, pipeline: 1, data: 1),
                                            workload: .inference(w)).weights
        let kv = 524_288.0 * (150 + 1)  // mean context 100 + 100/2, plus the new token's entry
        #expect(abs(estimate.decodeTokensPerSecond - 100e9 / (weights + kv)) < 1e-9 * estimate.decodeTokensPerSecond)
        #expect(estimate.communicationShare == 0 && estimate.bubbleShare == 0)
        #expect(analysis.items.isEmpty)
    }

    @Test func tensorParallelAllReducesTwicePerLayer() {
        let cluster = Fixture.a100(devices: 2)
        let w = InferenceWorkload(batchSize: 1)
        let (_, analysis) = InferenceCostModel.estimate(model: Fixture.llama7b, cluster: cluster,
                                                        configuration: ParallelConfiguration(tensor: 2, pipeline: 1, data: 1),
                                                        workload: w)
        let allReduce = analysis.items.first { $0.kind == .tensorAllReduce }
        #expect(allReduce?.occurrences == 64)
        #expect(allReduce?.messageBytes == 8192.0)  // one token's residual in f16
        #expect(allReduce?.link == .intraNode)
        // One token's logits, f32, gathered from both halves of the vocabulary.
        #expect(analysis.items.first { $0.kind == .logitsAllGather }?.messageBytes == 128_000.0)
        #expect(analysis.items.first { $0.kind == .embeddingAllReduce }?.occurrences == 1)
    }

    @Test func tensorGroupAcrossNodesIsSlowerThanWithin() {
        let w = Workload.inference(InferenceWorkload(batchSize: 8))
        let tp8 = ParallelConfiguration(tensor: 8, pipeline: 1, data: 1)
        let within = Evaluation(model: Fixture.llama70b, cluster: Fixture.a100(devices: 8, perNode: 8),
                                configuration: tp8, workload: w)
        let across = Evaluation(model: Fixture.llama70b, cluster: Fixture.a100(devices: 8, perNode: 4),
                                configuration: tp8, workload: w)
        #expect(across.communication.items.first?.link == .interNode)
        #expect(across.cost.tokensPerSecond < within.cost.tokensPerSecond)
        #expect(across.cost.communicationShare > within.cost.communicationShare)
    }

    @Test func trainingAddsGradientAllReduceOverData() {
        let cluster = Fixture.a100(devices: 8)
        let w = TrainingWorkload(globalBatchSize: 64, microBatchSize: 1, sequenceLength: 1024)
        let (estimate, analysis) = TrainingCostModel.estimate(model: Fixture.llama7b, cluster: cluster,
                                                              configuration: ParallelConfiguration(tensor: 2, pipeline: 2, data: 2),
                                                              workload: w)
        let gradient = analysis.items.first { $0.kind == .dataGradientAllReduce }
        #expect(gradient != nil)
        #expect(analysis.items.contains { $0.kind == .pipelineSendRecv && $0.occurrences == 2 * 32 })
        // 32 micro-batches per replica on 2 stages: bubble about 1/33.
        #expect(abs(estimate.bubbleShare - 1.0 / 33) < 0.01)
        #expect(estimate.tokensPerSecond > 0)
    }
}
