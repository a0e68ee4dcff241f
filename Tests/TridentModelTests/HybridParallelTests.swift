import Foundation
import Testing
import TridentCollectives
import TridentEngine
import TridentFormats
import TridentModel
import TridentTokenizer

/// Pipeline, data and hybrid grids (threads of this process, local backend) against one rank
/// and the float64 oracle, on a 6-block model (6 heads / 2 KV heads, Q8_0) so that 2, 3 and
/// 6 stages and uneven splits all exist.
@Suite("Pipeline, data and hybrid parallelism equal one rank")
struct HybridParallelTests {
    static let model = OracleFixture.model("tiny-llama-6l-q8_0.gguf")
    static let fixtureName = "tiny-6l-q8_0.pipe"

    static let grids: [GridCase] = [
        GridCase(pipeline: 2), GridCase(pipeline: 3), GridCase(pipeline: 6),
        GridCase(pipeline: 3, pipelineLayers: "1,4,1"), GridCase(pipeline: 2, pipelineLayers: "5,1"),
        GridCase(tensor: 2, pipeline: 2), GridCase(tensor: 3, pipeline: 2),
        GridCase(tensor: 2, pipeline: 3, pipelineLayers: "3,2,1"),
        GridCase(data: 2), GridCase(pipeline: 2, data: 2), GridCase(tensor: 2, pipeline: 2, data: 2),
    ]

    /// The prompt's logits at every position (run as 3 chunks in one step) and 12 greedy ids.
    struct Outcome: Sendable {
        var allLogits: [Float]
        var greedy: [Int32]
    }

    static func run(_ runner: DistributedRunner, prompt: [Int32]) throws -> Outcome {
        let chunks = BatchGenerator.prefillChunks(prompt, slot: 0, chunks: 3, longestChunk: 512).map {
            SequenceChunk(slot: $0.slot, start: $0.start, tokens: $0.tokens, logits: .all)
        }
        let all = try runner.forward(chunks).flatMap { $0 }
        let (_, ids) = try greedyDecode(runner, prompt: prompt, steps: 12)
        return Outcome(allLogits: all, greedy: ids)
    }

    static func outcome(_ grid: GridCase) throws -> Outcome {
        let prompt = try OracleFixture.load(fixtureName).tokens
        return try withParallelRuntime(model, layout: grid.layout, pipelineLayers: grid.pipelineLayers) {
            try run($0, prompt: prompt)
        }
    }

    @Test("prompt logits (3 chunks, every position) and 12 greedy ids equal one rank and the oracle",
          arguments: grids)
    func equalsSingleRank(grid: GridCase) throws {
        let fixture = try OracleFixture.load(Self.fixtureName)
        let single = try Self.outcome(GridCase())
        let got = try Self.outcome(grid)
        #expect(got.allLogits.count == fixture.tokens.count * 256)
        // Pipeline and data parallelism do the same arithmetic; tensor parallelism sums partial
        // products in another order (1e-4 is ~1e-5 of the logits' range here).
        #expect(maxAbsDifference(got.allLogits, single.allLogits) < 1e-4, "\(grid)")
        #expect(got.greedy == single.greedy, "\(grid)")
        #expect(maxAbsDifference(got.allLogits, try fixture.allLogits()) < 2e-3, "\(grid) vs the float64 oracle")
        let sure = fixture.greedyBeforeNearTie(gap: 0.01).prefix(got.greedy.count)
        #expect(sure.count >= 10 && got.greedy.prefix(sure.count) == sure[...], "\(grid)")
    }

    @Test("pipeline and data parallelism alone give bit-identical logits")
    func bitIdentical() throws {
        let single = try Self.outcome(GridCase())
        for grid in [GridCase(pipeline: 3), GridCase(pipeline: 2, data: 2)] {
            #expect(try Self.outcome(grid).allLogits == single.allLogits, "\(grid)")
        }
    }

    /// Five requests of different prompts and lengths, greedy and sampled.
    static func requests() -> [GenerationRequest] {
        let texts = ["Pipelines pass", "activations stage by stage", "0123", "Hello, tiny llama!", "x"]
        return texts.enumerated().map { i, text in
            let sampling = i % 2 == 0 ? SamplingParameters()
                : SamplingParameters(temperature: 0.8, topK: 40, topP: 0.95, seed: UInt64(7 + i))
            return GenerationRequest(promptTokens: text.utf8.map { Int32($0) }, maxTokens: 6 + i, sampling: sampling,
                                     ignoreEndOfGeneration: true)
        }
    }

    @Test("five prompts in flight at once (PP2 x DP2, 2 or 1 slots per replica) equal each generated alone",
          arguments: [2, 1])
    func concurrentSequences(slotsPerReplica: Int) throws {
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: Self.model))
        let requests = Self.requests()
        let alone = try withParallelRuntime(Self.model, layout: ParallelLayout()) { runner in
            try requests.map { try BatchGenerator(runner: runner, tokenizer: tokenizer).generate($0).tokens }
        }
        let layout = try ParallelLayout(pipeline: 2, data: 2)
        let together = try withParallelRuntime(Self.model, layout: layout, slotsPerReplica: slotsPerReplica) { runner in
            #expect(runner.slotCount == 2 * slotsPerReplica)
            var finished: [Int] = []
            let results = try BatchGenerator(runner: runner, tokenizer: tokenizer)
                .generate(requests, onFinish: { index, _ in finished.append(index) })
            #expect(finished.sorted() == Array(0..<5))
            return results.map(\.tokens)
        }
        #expect(together == alone)
        #expect(together.map(\.count) == requests.map(\.maxTokens))
    }

    @Test("perplexity with PP3 x DP2 (12 chunks in flight) equals one rank")
    func perplexity() throws {
        let prompt = try OracleFixture.load(Self.fixtureName).tokens
        let tokens = Array((0..<4).flatMap { _ in prompt }.prefix(200))
        let single = try withParallelRuntime(Self.model, layout: ParallelLayout()) {
            try PerplexityEvaluator.evaluate(runner: $0, tokens: tokens, context: 16)
        }
        let grid = try withParallelRuntime(Self.model, layout: ParallelLayout(pipeline: 3, data: 2), slotsPerReplica: 6) {
            try PerplexityEvaluator.evaluate(runner: $0, tokens: tokens, context: 16)
        }
        #expect(single.chunks == 12 && grid.chunks == 12 && grid.scoredTokens == single.scoredTokens)
        #expect(abs(grid.perplexity - single.perplexity) < 1e-9 * single.perplexity)
        #expect(single.perplexity > 1 && single.perplexity < 1000)
    }

    @Test("statistics name every rank's coordinates and busy fraction",
          .timeLimit(.minutes(1)))
    func statistics() throws {
        let layout = try ParallelLayout(tensor: 2, pipeline: 2, data: 2)
        let ranks = try withParallelRuntime(Self.model, layout: layout, slotsPerReplica: 2) { runner in
            try runner.resetStatistics()
            let batch = (0..<4).map { SequenceChunk(slot: $0, start: 0, tokens: [72, 101, 108], logits: .last) }
            let logits = try runner.forward(batch)
            #expect(logits.map(\.count) == [256, 256, 256, 256])
            return try runner.rankStatistics()
        }
        #expect(ranks.map(\.rank) == Array(0..<8))
        for r in ranks {
            let c = layout.coordinates(of: r.rank)
            #expect(r.tensor == c.tensor && r.pipeline == c.pipeline && r.data == c.data)
            #expect(r.computeSeconds > 0 && r.busyFraction > 0 && r.busyFraction <= 1 && r.windowSeconds > 0)
            #expect(r.peakRSSBytes > 0)
        }
    }
}

@Suite("Pipeline parallelism on SmolLM2", .enabled(if: FileManager.default.fileExists(atPath: OracleFixture.smolLM2),
                                                   "needs the SmolLM2 model (scripts/fetch-model.sh)"))
struct SmolLM2PipelineTests {
    @Test("PP2 and TP3 x PP2: last logits within 0.02 of the oracle, greedy ids equal one rank",
          arguments: [GridCase(pipeline: 2), GridCase(tensor: 3, pipeline: 2)])
    func capital(grid: GridCase) throws {
        let fixture = try OracleFixture.load("smollm2-q4_1.capital")
        let single = try withParallelRuntime(OracleFixture.smolLM2, layout: ParallelLayout()) {
            try greedyDecode($0, prompt: fixture.tokens, steps: 16)
        }
        let got = try withParallelRuntime(OracleFixture.smolLM2, layout: grid.layout) {
            try greedyDecode($0, prompt: fixture.tokens, steps: 16)
        }
        #expect(maxAbsDifference(got.logits, try fixture.lastLogits()) < 0.02, "\(grid)")
        #expect(maxAbsDifference(got.logits, single.logits) < 1e-3, "\(grid)")
        #expect(got.ids == single.ids, "\(grid)")
        let sure = fixture.greedyBeforeNearTie(gap: 0.05)
        #expect(got.ids.prefix(sure.count) == sure.prefix(16), "\(grid)")
    }
}
