import Foundation
import Testing
import TridentCollectives
import TridentEngine
import TridentFormats
import TridentModel
import TridentTokenizer

/// Prompt-prefix reuse in the scheduler on the tiny model: a request admitted into a slot whose
/// previous sequence ran the same leading tokens skips them, and its tokens and
/// log-probabilities are those of the same request run from an empty cache.
@Suite("Prompt prefix reuse on the tiny model")
struct PrefixReuseTests {
    static let model = OracleFixture.model("tiny-llama-6l-q8_0.gguf")
    /// Log-probabilities of a reused prefix: the same arithmetic on the same tokens at the same
    /// positions, so equal up to float32 rounding of a different chunk split.
    static let tolerance: Float = 1e-4

    static func request(_ text: String, maxTokens: Int = 6, promptLogprobs: Bool = false) -> GenerationRequest {
        var request = GenerationRequest(promptTokens: text.utf8.map { Int32($0) }, maxTokens: maxTokens,
                                        ignoreEndOfGeneration: true, topLogprobs: 3, logprobs: true)
        request.promptLogprobs = promptLogprobs
        return request
    }

    /// Runs `requests` one after another (each enqueued once the previous finished) on one
    /// scheduler. - Returns: their results in order.
    static func runInTurn(_ requests: [GenerationRequest], runner: any ModelRunner, tokenizer: Tokenizer,
                          reuse: Bool = true) throws -> [GenerationResult] {
        let scheduler = Scheduler(runner: runner, tokenizer: tokenizer)
        scheduler.reusesPromptPrefixes = reuse
        return try requests.map { request in
            let id = try scheduler.enqueue(request)
            var result: GenerationResult?
            while scheduler.hasWork {
                for case let .finished(done, finished) in try scheduler.step() where done == id { result = finished }
            }
            return try #require(result)
        }
    }

    static func expectSame(_ reused: GenerationResult, _ fresh: GenerationResult) {
        #expect(reused.tokens == fresh.tokens)
        #expect(reused.topLogprobs.count == fresh.topLogprobs.count)
        for (a, b) in zip(reused.topLogprobs, fresh.topLogprobs) {
            #expect(a.map(\.id) == b.map(\.id))
            for (x, y) in zip(a, b) { #expect(abs(x.logprob - y.logprob) <= tolerance, "\(x.logprob) vs \(y.logprob)") }
        }
    }

    @Test("a shared prefix is skipped and the result equals a run from an empty cache (one rank and TP2 x PP2)",
          arguments: [1, 2])
    func sharedPrefix(split: Int) throws {
        let layout = try ParallelLayout(tensor: split, pipeline: split)
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: Self.model))
        let first = Self.request("The quick brown fox jumps"), second = Self.request("The quick brown cat sleeps")
        let shared = zip(first.promptTokens, second.promptTokens).prefix { $0 == $1 }.count
        let (fresh, inTurn) = try withParallelRuntime(Self.model, layout: layout, slotsPerReplica: 1) { runner in
            (try Self.runInTurn([second], runner: runner, tokenizer: tokenizer),
             try Self.runInTurn([first, second], runner: runner, tokenizer: tokenizer))
        }
        #expect(inTurn[0].cachedPromptTokens == 0)
        #expect(inTurn[1].cachedPromptTokens == shared)
        Self.expectSame(inTurn[1], fresh[0])
    }

    @Test("a follow-up turn reuses the previous prompt and its generated tokens")
    func followUpTurn() throws {
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: Self.model))
        try withParallelRuntime(Self.model, layout: try ParallelLayout(), slotsPerReplica: 1) { runner in
            let first = Self.request("Hello, tiny llama!")
            let answer = try Self.runInTurn([first], runner: runner, tokenizer: tokenizer, reuse: false)[0]
            // The first request's last generated token was sampled but never run.
            let followUp = GenerationRequest(promptTokens: first.promptTokens + answer.tokens + Array(" more".utf8).map { Int32($0) },
                                             maxTokens: 5, ignoreEndOfGeneration: true, topLogprobs: 3, logprobs: true)
            let fresh = try Self.runInTurn([followUp], runner: runner, tokenizer: tokenizer, reuse: false)[0]
            let both = try Self.runInTurn([first, followUp], runner: runner, tokenizer: tokenizer)
            #expect(both[1].cachedPromptTokens == first.promptTokens.count + answer.tokens.count - 1)
            Self.expectSame(both[1], fresh)
        }
    }

    @Test("the free slot with the longest shared prefix is chosen; identical prompts keep their last token to run")
    func bestSlot() throws {
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: Self.model))
        try withParallelRuntime(Self.model, layout: try ParallelLayout(), slotsPerReplica: 2) { runner in
            let scheduler = Scheduler(runner: runner, tokenizer: tokenizer)
            let a = Self.request("Pipelines pass activations"), b = Self.request("0123456789")
            let ids = [try scheduler.enqueue(a), try scheduler.enqueue(b)]
            var results: [Int: GenerationResult] = [:]
            func drain() throws {
                while scheduler.hasWork {
                    for case let .finished(id, result) in try scheduler.step() { results[id] = result }
                }
            }
            try drain()
            #expect(Set(results.keys) == Set(ids))
            let again = try scheduler.enqueue(Self.request("0123456789"))
            let prefixed = try scheduler.enqueue(Self.request("Pipelines pass gradients"))
            try drain()
            #expect(results[again]?.cachedPromptTokens == b.promptTokens.count - 1)
            #expect(results[prefixed]?.cachedPromptTokens == "Pipelines pass ".utf8.count)
            #expect(results[again]?.tokens == results[ids[1]]?.tokens)
        }
    }

    @Test("requests that score their prompt, and a scheduler with reuse off, run every prompt token")
    func noReuse() throws {
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: Self.model))
        try withParallelRuntime(Self.model, layout: try ParallelLayout(), slotsPerReplica: 1) { runner in
            let plain = Self.request("Hello, tiny llama!"), scored = Self.request("Hello, tiny llama!", promptLogprobs: true)
            let withScores = try Self.runInTurn([plain, scored], runner: runner, tokenizer: tokenizer)
            #expect(withScores[1].cachedPromptTokens == 0)
            let off = try Self.runInTurn([plain, plain], runner: runner, tokenizer: tokenizer, reuse: false)
            #expect(off[1].cachedPromptTokens == 0)
            #expect(off[1].tokens == off[0].tokens)
        }
    }
}
