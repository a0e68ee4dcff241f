import Foundation
import Testing
import TridentCollectives
import TridentEngine
import TridentFormats
import TridentModel

@Suite("Model placement on the rank grid")
struct PlacementTests {
    static let model = OracleFixture.model("tiny-llama-6l-q8_0.gguf")
    static var configuration: ModelConfiguration { get throws { try ModelConfiguration.load(path: model) } }

    @Test("global slots map round-robin onto replicas; logits come from tensor rank 0 of the last stage")
    func slotMapping() throws {
        let layout = try ParallelLayout(tensor: 2, pipeline: 3, data: 2)
        let placement = try ModelPlacement(configuration: Self.configuration, layout: layout, slotsPerReplica: 3)
        #expect(placement.slotCount == 6)
        #expect((0..<6).map(placement.replica(ofSlot:)) == [0, 1, 0, 1, 0, 1])
        #expect((0..<6).map(placement.localSlot) == [0, 0, 1, 1, 2, 2])
        for slot in 0..<6 {
            #expect(placement.globalSlot(replica: placement.replica(ofSlot: slot), local: placement.localSlot(slot)) == slot)
        }
        // rank = tp + pp * 2 + dp * 6: the last stage (pp 2) with tp 0 is rank 4 / rank 10.
        #expect(placement.logitsSource(replica: 0) == 4 && placement.logitsSource(replica: 1) == 10)
        #expect(placement.partition.sizes.reduce(0, +) == 6 && placement.partition.stageCount == 3)
    }

    @Test("--pipeline-layers is honoured exactly")
    func explicitLayers() throws {
        let placement = try ModelPlacement(configuration: Self.configuration, layout: ParallelLayout(pipeline: 3),
                                           pipelineLayers: "1,4,1")
        #expect(placement.partition.ranges == [0..<1, 1..<5, 5..<6])
    }

    @Test("a grid that does not fit the model is refused with the reason")
    func refused() throws {
        let c = try Self.configuration
        #expect(throws: StagePartitionError.moreStagesThanLayers(stages: 7, layers: 6)) {
            try ModelPlacement(configuration: c, layout: ParallelLayout(pipeline: 7))
        }
        #expect(throws: StagePartitionError.wrongLayerTotal(expected: 6, found: 5, sizes: [2, 2, 1])) {
            try ModelPlacement(configuration: c, layout: ParallelLayout(pipeline: 3), pipelineLayers: "2,2,1")
        }
        #expect(throws: StagePartitionError.wrongStageCount(expected: 3, found: 2)) {
            try ModelPlacement(configuration: c, layout: ParallelLayout(pipeline: 3), pipelineLayers: "3,3")
        }
        #expect(throws: ShardingError.self) {
            try ModelPlacement(configuration: c, layout: ParallelLayout(tensor: 7))
        }
        #expect(throws: PlacementError.badSlotCount(0)) {
            try ModelPlacement(configuration: c, layout: ParallelLayout(), slotsPerReplica: 0)
        }
    }

    @Test("every rank refuses a grid whose size is not the world's, and a pipeline deeper than the model")
    func refusedByEveryRank() throws {
        let mismatch = try LocalCommunicator.run(size: 3) { world in
            Result { _ = try RankRuntime.load(path: Self.model, world: world, layout: ParallelLayout(tensor: 2, pipeline: 2),
                                              threads: 1, capacity: 16) }
        }
        for outcome in mismatch {
            #expect(throws: ParallelLayoutError.worldSizeMismatch(worldSize: 3, tensor: 2, pipeline: 2, data: 1)) {
                try outcome.get()
            }
        }
        let tooDeep = try LocalCommunicator.run(size: 7) { world in
            Result { _ = try RankRuntime.load(path: Self.model, world: world, layout: ParallelLayout(pipeline: 7),
                                              threads: 1, capacity: 16) }
        }
        for outcome in tooDeep {
            #expect(throws: StagePartitionError.moreStagesThanLayers(stages: 7, layers: 6)) { try outcome.get() }
        }
    }

    @Test("each rank holds only its stage's blocks, the embedding on the first and the head on the last")
    func stageContents() throws {
        let layout = try ParallelLayout(tensor: 2, pipeline: 3)
        let contents = try LocalCommunicator.run(size: 6) { world -> [Int] in
            let runtime = try RankRuntime.load(path: Self.model, world: world, layout: layout, pipelineLayers: "1,3,2",
                                               threads: 1, capacity: 16)
            let stage = runtime.stage
            return [stage.layers.lowerBound, stage.layers.upperBound, stage.isFirst ? 1 : 0, stage.isLast ? 1 : 0,
                    runtime.groups.tensor.size, runtime.groups.pipeline.size, runtime.groups.pipeline.rank]
        }
        #expect(contents[0] == [0, 1, 1, 0, 2, 3, 0] && contents[1] == [0, 1, 1, 0, 2, 3, 0])
        #expect(contents[2] == [1, 4, 0, 0, 2, 3, 1] && contents[3] == [1, 4, 0, 0, 2, 3, 1])
        #expect(contents[4] == [4, 6, 0, 1, 2, 3, 2] && contents[5] == [4, 6, 0, 1, 2, 3, 2])
    }
}

@Suite("Step commands between the driver and the workers")
struct StepCommandTests {
    @Test("a forward step with several chunks arrives intact")
    func roundTrip() throws {
        let command = StepCommand(opcode: .forward, chunks: [
            SequenceChunk(slot: 3, start: 0, tokens: [1, 2, 3], logits: .none),
            SequenceChunk(slot: 3, start: 3, tokens: [4], logits: .last),
            SequenceChunk(slot: 0, start: 7, tokens: [5, 6], logits: .all),
            SequenceChunk(slot: 1, start: 5, tokens: [7], logits: .last, prefixSource: 3),
        ], microBatches: 2)
        let received = try LocalCommunicator.run(size: 3) { group -> StepCommand? in
            if group.rank == 0 { try command.broadcast(over: group); return nil }
            return try StepCommand.receive(over: group, slotCount: 4, capacity: 16, vocabularySize: 10)
        }
        #expect(received[1] == command && received[2] == command)
    }

    /// Broadcasts `header`, then (when given) `descriptors` and `tokens`, as a driver would,
    /// and returns the worker's error.
    static func rejection(header: [Int32], descriptors: [Int32]? = nil, tokens: [Int32]? = nil) throws -> String {
        let outcomes = try LocalCommunicator.run(size: 2) { group -> String in
            if group.rank == 0 {
                var h = header
                try group.broadcast(&h, root: 0)
                if var d = descriptors { try group.broadcast(&d, root: 0) }
                if var t = tokens { try group.broadcast(&t, root: 0) }
                return ""
            }
            do {
                _ = try StepCommand.receive(over: group, slotCount: 4, capacity: 16, vocabularySize: 10)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        return outcomes[1]
    }

    @Test("malformed commands are rejected naming the field")
    func malformed() throws {
        let m = StepCommand.magic
        #expect(try Self.rejection(header: [7, 1, 1, 1, 0, 0, 0, 0]).contains("magic"))
        #expect(try Self.rejection(header: [m, 9, 0, 0, 0, 0, 0, 0]).contains("unknown opcode 9"))
        #expect(try Self.rejection(header: [m, 3, 1, 0, 0, 0, 0, 0]).contains("carries data"))
        #expect(try Self.rejection(header: [m, 1, 0, 0, 1, 0, 0, 0]).contains("0 chunks"))
        #expect(try Self.rejection(header: [m, 1, 2, 1, 1, 0, 0, 0]).contains("1 tokens for 2 chunks"))
        #expect(try Self.rejection(header: [m, 1, 2, 2, 3, 0, 0, 0]).contains("3 micro-batches for 2 chunks"))
        #expect(try Self.rejection(header: [m, 1, 2, 2, 0, 0, 0, 0]).contains("0 micro-batches for 2 chunks"))
        let one: [Int32] = [m, 1, 1, 2, 1, 0, 0, 0]
        #expect(try Self.rejection(header: one, descriptors: [4, 0, 2, 1, -1], tokens: [1, 2]).contains("slot 4 outside 0..<4"))
        #expect(try Self.rejection(header: one, descriptors: [0, 15, 2, 1, -1], tokens: [1, 2]).contains("outside the capacity 16"))
        #expect(try Self.rejection(header: one, descriptors: [0, 0, 3, 1, -1], tokens: [1, 2]).contains("3 tokens, 2 left"))
        #expect(try Self.rejection(header: one, descriptors: [0, 0, 1, 1, -1], tokens: [1, 2]).contains("hold 1 tokens"))
        #expect(try Self.rejection(header: one, descriptors: [0, 0, 2, 5, -1], tokens: [1, 2]).contains("logits code 5"))
        #expect(try Self.rejection(header: one, descriptors: [0, 0, 2, 1, -1], tokens: [1, 10]).contains("token id 10"))
        #expect(try Self.rejection(header: one, descriptors: [0, 0, 2, 1, -1], tokens: [1, 9]) == "accepted")
        #expect(try Self.rejection(header: one, descriptors: [0, 3, 2, 1, 4], tokens: [1, 2]).contains("prefix source slot 4"))
        #expect(try Self.rejection(header: one, descriptors: [0, 3, 2, 1, 0], tokens: [1, 2]).contains("prefix source slot 0 for slot 0"))
        #expect(try Self.rejection(header: one, descriptors: [0, 0, 2, 1, 1], tokens: [1, 2]).contains("at position 0"))
        #expect(try Self.rejection(header: one, descriptors: [0, 3, 2, 1, 1], tokens: [1, 2]) == "accepted")
    }

    @Test("the driver refuses a step outside the cache or vocabulary before telling any rank")
    func driverValidates() throws {
        let model = OracleFixture.model("tiny-llama-6l-q8_0.gguf")
        try withParallelRuntime(model, layout: ParallelLayout(pipeline: 2), capacity: 8) { runner in
            #expect(throws: KVCacheError.noSuchSlot(slot: 1, slotCount: 1)) {
                try runner.forward(tokens: [1], slot: 1, start: 0, logits: .last)
            }
            #expect(throws: KVCacheError.full(slot: 0, needed: 9, capacity: 8)) {
                try runner.forward(tokens: [1, 2], slot: 0, start: 7, logits: .last)
            }
            #expect(throws: StepCommandError.self) { try runner.forward(tokens: [256], slot: 0, start: 0, logits: .last) }
            // The workers are still in step: a valid command works afterwards.
            let logits = try runner.forward(tokens: [1, 2], slot: 0, start: 0, logits: .last)
            #expect(logits.count == 256)
        }
    }
}
