import Testing
import TridentCollectives
import TridentEngine
import TridentFormats
import TridentKernels
import TridentModel

@Suite("Pipeline executor on the tiny model")
struct PipelineExecutorTests {
    static let modelPath = OracleFixture.model("tiny-llama-f32.gguf")

    /// Loads the blocks `layers` of the tiny F32 model as one stage (embedding if first, head if last).
    static func makeStage(layers: Range<Int>, first: Bool, last: Bool, slots: Int = 3,
                          capacity: Int? = nil) throws -> LlamaStage {
        let file = try GGUFFile(path: modelPath)
        let configuration = try ModelConfiguration(gguf: file)
        let plan = ShardingPlan.unsharded(configuration)
        let weights = try LlamaWeights.load(from: file, configuration: configuration, plan: plan, layers: layers,
                                            includeEmbedding: first, includeHead: last, copySlices: false)
        let cache = KVCache(layerCount: layers.count, slotCount: slots, capacity: capacity ?? configuration.contextLength,
                            kvHeads: plan.kvHeads.count, headDimension: configuration.headDimension)
        return LlamaStage(configuration: configuration, plan: plan, layers: layers, weights: weights, cache: cache,
                          tensorGroup: LocalCommunicator.makeGroup(size: 1, name: "tp")[0], pool: ThreadPool(threadCount: 1))
    }

    /// Runs each list of micro-batches in turn (one `run` per step) on a `stages`-stage pipeline of
    /// threads, blocks split by `StagePartition`. - Returns: the last stage's logits per step.
    static func pipelined(_ steps: [[SequenceChunk]], stages: Int) throws -> [[[Float]]] {
        let configuration = try ModelConfiguration(gguf: GGUFFile(path: modelPath))
        let partition = try StagePartition.balanced(configuration: configuration, stages: stages)
        let results = try LocalCommunicator.run(size: stages) { group -> [[[Float]]?] in
            let s = group.rank
            let stage = try makeStage(layers: partition.layers(forStage: s), first: s == 0, last: s == stages - 1)
            let executor = PipelineExecutor(stage: stage, pipelineGroup: group)
            return try steps.map { try executor.run($0) }
        }
        // Only the last stage returns logits.
        #expect(results.dropLast().allSatisfy { $0.allSatisfy { $0 == nil } })
        return results[stages - 1].map { $0! }
    }

    /// The same steps on one stage holding every block, one micro-batch at a time.
    static func sequential(_ steps: [[SequenceChunk]]) throws -> [[[Float]]] {
        let configuration = try ModelConfiguration(gguf: GGUFFile(path: modelPath))
        let stage = try makeStage(layers: 0 ..< configuration.layerCount, first: true, last: true)
        return try steps.map { step in
            try step.map { try stage.forward(tokens: $0.tokens, slot: $0.slot, start: $0.start, logits: $0.logits) }
        }
    }

    @Test("PP=2: two prompts in two slots, then a decode step of each, match one stage within 1e-5")
    func twoSlots() throws {
        let a = try OracleFixture.load("tiny-f32.hello"), b = try OracleFixture.load("tiny-f32.long")
        let prefill = [SequenceChunk(slot: 0, start: 0, tokens: a.tokens, logits: .all),
                       SequenceChunk(slot: 1, start: 0, tokens: b.tokens, logits: .last)]
        let decode = [SequenceChunk(slot: 1, start: b.tokens.count, tokens: [b.greedy[0]], logits: .last),
                      SequenceChunk(slot: 0, start: a.tokens.count, tokens: [a.greedy[0]], logits: .last)]
        let piped = try Self.pipelined([prefill, decode], stages: 2)
        let reference = try Self.sequential([prefill, decode])
        for (step, (got, want)) in zip(piped, reference).enumerated() {
            #expect(got.count == 2)
            for (m, (g, w)) in zip(got, want).enumerated() {
                #expect(g.count == w.count && !g.isEmpty)
                #expect(maxAbsDifference(g, w) < 1e-5, "step \(step) micro-batch \(m)")
            }
        }
        // And both agree with the float64 oracle.
        #expect(maxAbsDifference(piped[0][0], try a.allLogits()) < 1e-4)
        #expect(maxAbsDifference(piped[0][1], try b.lastLogits()) < 1e-4)
    }

    @Test("PP=2: one prompt in 3 chunks equals one stage, and the whole-prompt prefill")
    func chunkedPrompt() throws {
        let fixture = try OracleFixture.load("tiny-f32.hello")
        let t = fixture.tokens
        let cuts = [0, 7, 15, t.count]
        let chunks = (0..<3).map {
            SequenceChunk(slot: 0, start: cuts[$0], tokens: Array(t[cuts[$0] ..< cuts[$0 + 1]]), logits: .all)
        }
        let piped = try Self.pipelined([chunks], stages: 2)[0]
        let reference = try Self.sequential([chunks])[0]
        for m in 0..<3 { #expect(maxAbsDifference(piped[m], reference[m]) < 1e-5, "chunk \(m)") }
        let whole = try Self.sequential([[SequenceChunk(slot: 0, start: 0, tokens: t, logits: .all)]])[0][0]
        #expect(maxAbsDifference(piped.flatMap { $0 }, whole) < 1e-4)
        #expect(maxAbsDifference(piped.flatMap { $0 }, try fixture.allLogits()) < 1e-4)
    }

    @Test("PP=1 runs the whole model with no communication")
    func singleStage() throws {
        let fixture = try OracleFixture.load("tiny-f32.hello")
        let step = [SequenceChunk(slot: 0, start: 0, tokens: fixture.tokens, logits: .last)]
        let piped = try Self.pipelined([step], stages: 1)
        #expect(maxAbsDifference(piped[0][0], try fixture.lastLogits()) < 1e-4)
    }

    @Test("stages that disagree about a micro-batch fail with a frame error naming the field")
    func disagreement() throws {
        let tokens: [Int32] = [72, 101, 108]
        let outcomes = try LocalCommunicator.run(size: 2) { group -> String? in
            let s = group.rank
            let stage = try Self.makeStage(layers: s ..< s + 1, first: s == 0, last: s == 1)
            let executor = PipelineExecutor(stage: stage, pipelineGroup: group)
            // Stage 1 believes the micro-batch starts at position 5.
            let mb = SequenceChunk(slot: 0, start: s == 0 ? 0 : 5, tokens: tokens, logits: .last)
            do {
                _ = try executor.run([mb])
                return nil
            } catch let error as ActivationFrameError {
                return "\(error.peer) \(error.field) \(error.expected) \(error.found)"
            }
        }
        #expect(outcomes[0] == nil)
        #expect(outcomes[1] == "0 start 5 0")
    }

    @Test("a stage that fails makes the later stages fail at once with its reason")
    func failurePropagates() throws {
        let started = ContinuousClock.now
        let outcomes = try LocalCommunicator.run(size: 2) { group -> String? in
            let s = group.rank
            // Stage 0's cache is too small for the prompt; stage 1's is fine.
            let stage = try Self.makeStage(layers: s ..< s + 1, first: s == 0, last: s == 1, capacity: s == 0 ? 4 : 64)
            let executor = PipelineExecutor(stage: stage, pipelineGroup: group)
            let mb = SequenceChunk(slot: 0, start: 0, tokens: [1, 2, 3, 4, 5, 6], logits: .last)
            do {
                _ = try executor.run([mb])
                return nil
            } catch {
                return "\(error)"
            }
        }
        #expect(outcomes[0]?.contains("KV cache slot 0 needs 6 positions") == true)
        #expect(outcomes[1]?.hasPrefix("pipeline stage 0 failed: KV cache slot 0 needs 6") == true, "\(outcomes)")
        #expect(ContinuousClock.now - started < .seconds(20))
    }
}

@Suite("Grouping chunks into micro-batches")
struct MicroBatchGroupingTests {
    static func chunks(_ lengths: [Int]) -> [SequenceChunk] {
        lengths.enumerated().map { SequenceChunk(slot: $0, start: 0, tokens: Array(repeating: 1, count: $1), logits: .last) }
    }

    @Test("groups are consecutive, non-empty, cover every chunk and are as even in tokens as boundaries allow")
    func grouping() {
        #expect(PipelineExecutor.microBatchRanges(Self.chunks(Array(repeating: 1, count: 16)), count: 2) == [0..<8, 8..<16])
        #expect(PipelineExecutor.microBatchRanges(Self.chunks(Array(repeating: 1, count: 7)), count: 3) == [0..<3, 3..<5, 5..<7])
        #expect(PipelineExecutor.microBatchRanges(Self.chunks([100, 1, 1, 1]), count: 2) == [0..<1, 1..<4])
        #expect(PipelineExecutor.microBatchRanges(Self.chunks([1, 1, 100]), count: 3) == [0..<1, 1..<2, 2..<3])
        #expect(PipelineExecutor.microBatchRanges(Self.chunks([5, 5]), count: 4) == [0..<1, 1..<2])
        #expect(PipelineExecutor.microBatchRanges(Self.chunks([5, 5, 5]), count: 1) == [0..<3])
        for n in 1...12 {
            for g in 1...5 {
                let ranges = PipelineExecutor.microBatchRanges(Self.chunks((0..<n).map { 1 + ($0 * 7) % 5 }), count: g)
                #expect(ranges.count == min(n, g) && ranges.allSatisfy { !$0.isEmpty })
                #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == n)
                #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
            }
        }
    }

    @Test("PP=2: four sequences fused into 1, 2 or 4 micro-batches give the logits of one stage run one by one",
          arguments: [1, 2, 4])
    func fusedSequences(microBatches: Int) throws {
        let a = try OracleFixture.load("tiny-f32.hello"), b = try OracleFixture.load("tiny-f32.long")
        let prefill = [SequenceChunk(slot: 0, start: 0, tokens: Array(a.tokens.prefix(9)), logits: .all),
                       SequenceChunk(slot: 1, start: 0, tokens: b.tokens, logits: .last),
                       SequenceChunk(slot: 0, start: 9, tokens: Array(a.tokens.dropFirst(9)), logits: .last),
                       SequenceChunk(slot: 2, start: 0, tokens: [72], logits: .last)]
        let decode = [SequenceChunk(slot: 2, start: 1, tokens: [105], logits: .last),
                      SequenceChunk(slot: 0, start: a.tokens.count, tokens: [a.greedy[0]], logits: .last),
                      SequenceChunk(slot: 1, start: b.tokens.count, tokens: [b.greedy[0]], logits: .last)]
        let reference = try PipelineExecutorTests.sequential([prefill, decode])
        let configuration = try ModelConfiguration(gguf: GGUFFile(path: PipelineExecutorTests.modelPath))
        let partition = try StagePartition.balanced(configuration: configuration, stages: 2)
        let results = try LocalCommunicator.run(size: 2) { group -> [[[Float]]?] in
            let s = group.rank
            let stage = try PipelineExecutorTests.makeStage(layers: partition.layers(forStage: s), first: s == 0,
                                                            last: s == 1, slots: 3)
            let executor = PipelineExecutor(stage: stage, pipelineGroup: group)
            return try [prefill, decode].map { try executor.run($0, microBatches: microBatches) }
        }
        let piped = results[1].map { $0! }
        for (step, (got, want)) in zip(piped, reference).enumerated() {
            #expect(got.map(\.count) == want.map(\.count))
            for (m, (g, w)) in zip(got, want).enumerated() {
                #expect(maxAbsDifference(g, w) < 1e-5, "step \(step) chunk \(m)")
            }
        }
        #expect(maxAbsDifference(piped[1][1], try {
            // slot 0's decode equals the oracle's prediction after its first greedy token
            try PipelineExecutorTests.sequential([[SequenceChunk(slot: 0, start: 0, tokens: a.tokens + [a.greedy[0]], logits: .last)]])[0][0]
        }()) < 1e-4)
    }
}
