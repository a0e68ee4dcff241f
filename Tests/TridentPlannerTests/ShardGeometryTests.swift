import Testing
@testable import TridentPlanner

@Suite struct ShardGeometryTests {
    @Test func unevenHeadsDuplicateStraddlingKVHeads() {
        // 9 query heads, 3 KV heads (groups of 3): TP=2 -> heads 0-4 | 5-8 -> KV {0,1} | {1,2}.
        let two = ShardGeometry(model: Fixture.smol, tensor: 2, pipeline: 1)
        #expect(two.queryHeads == [5, 4])
        #expect(two.kvHeads == [2, 2])
        // TP=4 -> heads 0-2 | 3-4 | 5-6 | 7-8 -> KV {0} | {1} | {1,2} | {2}.
        let four = ShardGeometry(model: Fixture.smol, tensor: 4, pipeline: 1)
        #expect(four.queryHeads == [3, 2, 2, 2])
        #expect(four.kvHeads == [1, 1, 2, 1])
    }

    @Test func moreRanksThanKVHeadsDuplicates() {
        // Llama-2-70B: 64 query heads, 8 KV heads; TP=16 gives each rank 4 heads of one group.
        let g = ShardGeometry(model: Fixture.llama70b, tensor: 16, pipeline: 1)
        #expect(g.queryHeads.allSatisfy { $0 == 4 })
        #expect(g.kvHeads.allSatisfy { $0 == 1 })
    }

    @Test func mlpColumnsCutAtBlockBoundaries() {
        // SmolLM2: 1536 columns = 48 blocks of 32; TP=5 -> 10,10,10,9,9 blocks.
        let g = ShardGeometry(model: Fixture.smol, tensor: 5, pipeline: 1, blockSize: 32)
        #expect(g.mlpColumns == [320, 320, 320, 288, 288])
        #expect(g.mlpColumns.reduce(0, +) == 1536)
    }

    @Test func unevenLayersGoToMiddleStagesFirst() {
        #expect(ShardGeometry.stageSplit(layers: 32, stages: 3) == [11, 11, 10])
        #expect(ShardGeometry.stageSplit(layers: 30, stages: 4) == [7, 8, 8, 7])
        #expect(ShardGeometry.stageSplit(layers: 80, stages: 3) == [27, 27, 26])
        #expect(ShardGeometry.stageSplit(layers: 5, stages: 1) == [5])
    }

    @Test func parametersOfAllShardsAddUpToTheModel() {
        // Untied model, no duplicated KV heads: the shards partition the parameters
        // except the replicated norms.
        let model = Fixture.llama7b
        let g = ShardGeometry(model: model, tensor: 4, pipeline: 2)
        var sum = 0
        for stage in 0..<2 { for rank in 0..<4 { sum += g.parameterElements(rank: rank, stage: stage, model: model) } }
        let c = model.configuration
        let replicatedNorms = 3 * (2 * c.hiddenSize) * c.layerCount + 3 * c.hiddenSize
        #expect(sum - replicatedNorms == model.parameterCount)
    }

    @Test func tiedHeadIsCopiedOnlyWhenItLeavesTheFirstStage() {
        let model = Fixture.smol
        let embedding = model.embeddingParameters
        let one = ShardGeometry(model: model, tensor: 1, pipeline: 1)
        #expect(one.vocabularyMatrices(rank: 0, stage: 0, model: model).count == 1)
        let two = ShardGeometry(model: model, tensor: 1, pipeline: 2)
        #expect(two.vocabularyMatrices(rank: 0, stage: 0, model: model).map(\.elements) == [embedding])
        #expect(two.vocabularyMatrices(rank: 0, stage: 1, model: model).map(\.elements) == [embedding])
    }

    @Test func stageBoundaryBetweenNodesUsesTheInterNodeLink() {
        // TP=2 x PP=2 on nodes of 2: stage 0 on node 0, stage 1 on node 1.
        let links = ConfigurationLinks(cluster: Fixture.a100(devices: 4, perNode: 2),
                                       configuration: ParallelConfiguration(tensor: 2, pipeline: 2, data: 1))
        #expect(links.tensorKind == .intraNode)
        #expect(links.pipelineKinds == [.interNode])
        let packed = ConfigurationLinks(cluster: Fixture.a100(devices: 4, perNode: 4),
                                        configuration: ParallelConfiguration(tensor: 2, pipeline: 2, data: 1))
        #expect(packed.pipelineKinds == [.intraNode])
    }
}
