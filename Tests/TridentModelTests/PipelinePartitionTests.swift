import Testing
import TridentModel

@Suite("Pipeline stage partition")
struct PipelinePartitionTests {
    /// SmolLM2-135M's shapes (hidden 576, ffn 1536, 30 blocks, 9/3 heads, vocabulary 49152).
    static let smolLM2 = ModelConfiguration(hiddenSize: 576, intermediateSize: 1536, layerCount: 30, headCount: 9,
                                            kvHeadCount: 3, vocabularySize: 49152, tiedEmbeddings: true)

    @Test("uniform blocks without head or embedding cost split with sizes differing by at most one")
    func uniformSplit() throws {
        for stages in 1...6 {
            for layers in stages...40 {
                let costs = StageCostModel(layerCosts: Array(repeating: 1, count: layers), embeddingCost: 0, headCost: 0)
                let partition = try StagePartition.balanced(costs: costs, stages: stages)
                checkWellFormed(partition, layers: layers, stages: stages)
                let sizes = partition.sizes
                #expect(sizes.max()! - sizes.min()! <= 1, "\(layers) blocks on \(stages) stages: \(sizes)")
            }
        }
    }

    @Test("the balanced split's bottleneck equals a brute-force search over every contiguous split")
    func optimalAgainstBruteForce() throws {
        var rng = SplitMix(seed: 7)
        for trial in 0..<60 {
            let layers = 1 + trial % 9
            let stages = 1 + (trial / 9) % min(4, layers)
            let costs = StageCostModel(layerCosts: (0..<layers).map { _ in Double(1 + rng.next() % 20) },
                                       embeddingCost: Double(rng.next() % 5), headCost: Double(rng.next() % 40))
            let partition = try StagePartition.balanced(costs: costs, stages: stages)
            checkWellFormed(partition, layers: layers, stages: stages)
            let best = bruteForceBottleneck(costs, stages: stages)
            #expect(partition.stageCosts(costs).max()! == best, "trial \(trial): \(partition) costs \(costs)")
        }
    }

    @Test("SmolLM2's LM head (about 8 blocks' worth) shortens the last stage")
    func smolLM2Split() throws {
        // Block: 576 * (2*576 + 2*192) + 3 * 576 * 1536 + 2 * 576 = 3,540,096 weights;
        // head: 49152 * 576 + 576 = 28,312,128 = 7.998 blocks. Two stages: 19 blocks vs 11 + 7.998.
        // Three stages: the bottleneck is 13 blocks, only reachable as 12 (+ embedding), 13, 5 + 7.998.
        let costs = StageCostModel(configuration: Self.smolLM2)
        #expect(costs.layerCosts[0] == 3_540_096)
        #expect(costs.headCost == 28_312_128)
        #expect(try StagePartition.balanced(configuration: Self.smolLM2, stages: 2).sizes == [19, 11])
        #expect(try StagePartition.balanced(configuration: Self.smolLM2, stages: 3).sizes == [12, 13, 5])
        #expect(try StagePartition.balanced(configuration: Self.smolLM2, stages: 30).sizes == Array(repeating: 1, count: 30))
        #expect(try StagePartition.balanced(configuration: Self.smolLM2, stages: 1).ranges == [0..<30])
    }

    @Test("more stages than blocks is refused with the reason")
    func tooManyStages() {
        #expect(throws: StagePartitionError.moreStagesThanLayers(stages: 31, layers: 30)) {
            try StagePartition.balanced(configuration: Self.smolLM2, stages: 31)
        }
        #expect(throws: StagePartitionError.invalidStageCount(0)) {
            try StagePartition.balanced(configuration: Self.smolLM2, stages: 0)
        }
        let message = StagePartitionError.moreStagesThanLayers(stages: 31, layers: 30).description
        #expect(message.contains("31") && message.contains("30 blocks"))
    }

    @Test("--pipeline-layers is parsed and validated")
    func explicitOverride() throws {
        let p = try StagePartition.parse("10,10,10", layerCount: 30, stages: 3)
        #expect(p.ranges == [0..<10, 10..<20, 20..<30])
        #expect(p.description == "10,10,10")
        #expect(try StagePartition.parse(" 5, 20 ,5", layerCount: 30, stages: 3).ranges == [0..<5, 5..<25, 25..<30])
        #expect(throws: StagePartitionError.wrongStageCount(expected: 3, found: 2)) {
            try StagePartition.parse("15,15", layerCount: 30, stages: 3)
        }
        #expect(throws: StagePartitionError.emptyStage(stage: 1, layers: 0)) {
            try StagePartition.parse("10,0,20", layerCount: 30, stages: 3)
        }
        #expect(throws: StagePartitionError.emptyStage(stage: 0, layers: -2)) {
            try StagePartition.parse("-2,12,20", layerCount: 30, stages: 3)
        }
        #expect(throws: StagePartitionError.wrongLayerTotal(expected: 30, found: 31, sizes: [10, 10, 11])) {
            try StagePartition.parse("10,10,11", layerCount: 30, stages: 3)
        }
        #expect(throws: StagePartitionError.notANumber(entry: "x", position: 1)) {
            try StagePartition.parse("10,x,20", layerCount: 30, stages: 3)
        }
        #expect(throws: StagePartitionError.notANumber(entry: "", position: 2)) {
            try StagePartition.parse("10,20,", layerCount: 30, stages: 3)
        }
        #expect(throws: StagePartitionError.moreStagesThanLayers(stages: 3, layers: 2)) {
            try StagePartition.parse("1,1,0", layerCount: 2, stages: 3)
        }
        let total = StagePartitionError.wrongLayerTotal(expected: 30, found: 31, sizes: [10, 10, 11]).description
        #expect(total.contains("10,10,11") && total.contains("31") && total.contains("30"))
    }

    // MARK: - Helpers

    func checkWellFormed(_ p: StagePartition, layers: Int, stages: Int) {
        #expect(p.stageCount == stages)
        #expect(p.ranges.first?.lowerBound == 0 && p.layerCount == layers)
        for (a, b) in zip(p.ranges, p.ranges.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
        #expect(p.ranges.allSatisfy { !$0.isEmpty })
    }

    /// The least maximum stage cost over every way to cut `layers` into `stages` non-empty pieces.
    func bruteForceBottleneck(_ costs: StageCostModel, stages: Int) -> Double {
        var best = Double.infinity
        func search(start: Int, stage: Int, worst: Double) {
            let n = costs.layerCount
            if stage == stages - 1 {
                best = min(best, max(worst, costs.cost(of: start..<n, stage: stage, stages: stages)))
                return
            }
            for end in (start + 1)...(n - (stages - stage - 1)) {
                search(start: end, stage: stage + 1, worst: max(worst, costs.cost(of: start..<end, stage: stage, stages: stages)))
            }
        }
        search(start: 0, stage: 0, worst: 0)
        return best
    }
}

/// A small deterministic generator for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49EB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func nextFloat() -> Float { Float(next() >> 40) / Float(1 << 24) * 2 - 1 }
}
