import Testing
@testable import TridentPlanner

@Suite struct MemoryModelTests {
    let single = ParallelConfiguration(tensor: 1, pipeline: 1, data: 1)

    @Test func llama2_7bF16WeightsAre13_5GB() {
        let m = MemoryModel.perDevice(model: Fixture.llama7b, configuration: single,
                                      workload: Fixture.inference(weights: .f16))
        // 6.74e9 parameters x 2 bytes = 13.48 GB (norms are kept in f32: +0.5 MB).
        #expect(abs(m.weights - 6_738_415_616 * 2) < 1e6)
        #expect(abs(m.weights / 1e9 - 13.48) < 0.01)
    }

    @Test func quantizedWeightsCountBlockScales() {
        let q41 = MemoryModel.perDevice(model: Fixture.llama7b, configuration: single,
                                        workload: Fixture.inference(weights: .q4_1))
        let q80 = MemoryModel.perDevice(model: Fixture.llama7b, configuration: single,
                                        workload: Fixture.inference(weights: .q8_0))
        // 20 bytes per 32 weights and 34 per 32 (every row of Llama-7B is a multiple of 32).
        #expect(abs(q41.weights - 6_738_415_616 * 20.0 / 32) < 1e6)
        #expect(abs(q80.weights - 6_738_415_616 * 34.0 / 32) < 1e6)
        #expect(NumericFormat.q4_1.rowBytes(4096) == 2560)
        #expect(NumericFormat.q8_0.rowBytes(33) == 68)  // a partial block still costs a block
    }

    @Test func kvCachePerTokenIsTwoLayersKVHeadsHeadDimBytes() {
        // Llama-2-7B f16: 2 x 32 x 32 x 128 x 2 = 524288 bytes; 70B: 2 x 80 x 8 x 128 x 2 = 327680.
        #expect(MemoryModel.kvCacheBytesPerToken(model: Fixture.llama7b, format: .f16) == 524_288)
        #expect(MemoryModel.kvCacheBytesPerToken(model: Fixture.llama70b, format: .f16) == 327_680)
        let m = MemoryModel.perDevice(model: Fixture.llama7b, configuration: single,
                                      workload: Fixture.inference(batch: 4, prompt: 1000, output: 24))
        #expect(m.kvCache == 524_288 * 4 * 1024)
    }

    @Test func kvCacheShardsByKVHeadAndDuplicatesBeyondThem() {
        let workload = Fixture.inference(batch: 1, prompt: 4000, output: 96)
        func kv(_ tp: Int) -> Double {
            MemoryModel.perDevice(model: Fixture.llama70b, configuration: ParallelConfiguration(tensor: tp, pipeline: 1, data: 1),
                                  workload: workload).kvCache
        }
        #expect(kv(1) == 327_680 * 4096)
        #expect(kv(8) == 327_680 * 4096 / 8)
        #expect(kv(16) == kv(8))  // 8 KV heads on 16 ranks: each still holds one
    }

    @Test func unevenPipelinePricedAtTheHeaviestStage() {
        let m = MemoryModel.perDevice(model: Fixture.llama7b, configuration: ParallelConfiguration(tensor: 1, pipeline: 3, data: 1),
                                      workload: Fixture.inference(weights: .f16))
        let c = Fixture.llama7b.configuration
        let layer = Double(Fixture.llama7b.parametersPerLayer - 2 * c.hiddenSize) * 2 + Double(2 * c.hiddenSize) * 4
        let embedding = Double(c.vocabularySize * c.hiddenSize) * 2
        // Stages [11, 11, 10]: stage 0 holds 11 layers and the embedding; stage 2 10 layers, head and norm.
        #expect(abs(m.weights - (11 * layer + embedding)) < 1)
        #expect(m.weights > Double(Fixture.llama7b.parameterCount) * 2 / 3)
    }

    @Test func trainingWithAdamMixedPrecisionIs16BytesPerParameter() {
        let workload = Workload.training(TrainingWorkload(globalBatchSize: 8, microBatchSize: 1, sequenceLength: 128))
        let m = MemoryModel.perDevice(model: Fixture.llama7b, configuration: single, workload: workload)
        let p = 6_738_415_616.0
        #expect(m.weights == 2 * p && m.gradients == 2 * p && m.optimizerStates == 12 * p)
        #expect(m.activations > 0)
    }

    @Test func zero1ShardsOptimizerStatesOverData() {
        let sharded = Workload.training(TrainingWorkload(globalBatchSize: 8, shardOptimizerStates: true))
        let plain = Workload.training(TrainingWorkload(globalBatchSize: 8))
        let dp8 = ParallelConfiguration(tensor: 1, pipeline: 1, data: 8)
        let a = MemoryModel.perDevice(model: Fixture.llama7b, configuration: dp8, workload: sharded)
        let b = MemoryModel.perDevice(model: Fixture.llama7b, configuration: dp8, workload: plain)
        #expect(a.optimizerStates * 8 == b.optimizerStates)
        #expect(a.weights == b.weights && a.gradients == b.gradients)
    }

    @Test func recomputationShrinksActivations() {
        let keep = Workload.training(TrainingWorkload(globalBatchSize: 8, sequenceLength: 2048))
        let recompute = Workload.training(TrainingWorkload(globalBatchSize: 8, sequenceLength: 2048,
                                                           recomputeActivations: true))
        let a = MemoryModel.perDevice(model: Fixture.llama7b, configuration: single, workload: keep).activations
        let b = MemoryModel.perDevice(model: Fixture.llama7b, configuration: single, workload: recompute).activations
        #expect(b < a / 10)
    }
}
