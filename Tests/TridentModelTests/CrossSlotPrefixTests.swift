import Foundation
import Testing
import TridentCollectives
import TridentEngine
import TridentFormats
import TridentModel
import TridentTokenizer

/// Prefix copies between slots: a request whose prompt starts like a running sequence's
/// copies those keys and values into its own slot (on every rank and stage of the replica)
/// instead of computing them, and its tokens and log-probabilities are those of a run from
/// an empty cache. Slots of different data-parallel replicas never copy from each other.
@Suite("Prompt prefixes copied from a running sequence")
struct CrossSlotPrefixTests {
    static let model = OracleFixture.model("tiny-llama-6l-q8_0.gguf")

    /// Starts `first` and steps until its prompt has run, then enqueues `second` beside it.
    /// - Returns: both results.
    static func runBeside(_ first: GenerationRequest, _ second: GenerationRequest, runner: any ModelRunner,
                          tokenizer: Tokenizer) throws -> (GenerationResult, GenerationResult) {
        let scheduler = Scheduler(runner: runner, tokenizer: tokenizer)
        var results: [Int: GenerationResult] = [:]
        func collect(_ events: [SchedulerEvent]) {
            for case let .finished(id, result) in events { results[id] = result }
        }
        let a = try scheduler.enqueue(first)
        var sampled = false
        while !sampled {
            let events = try scheduler.step()
            sampled = events.contains { if case .output(a, _) = $0 { true } else { false } }
            collect(events)
        }
        let b = try scheduler.enqueue(second)
        while scheduler.hasWork { collect(try scheduler.step()) }
        return (try #require(results[a]), try #require(results[b]))
    }

    static func fresh(_ request: GenerationRequest, runner: any ModelRunner, tokenizer: Tokenizer) throws -> GenerationResult {
        try PrefixReuseTests.runInTurn([request], runner: runner, tokenizer: tokenizer, reuse: false)[0]
    }

    @Test("a running sequence's prefix is copied; the result equals a fresh run (one rank, TP2, PP2, TP2 x PP2)",
          arguments: [(1, 1), (2, 1), (1, 2), (2, 2)])
    func copiedPrefix(tensor: Int, pipeline: Int) throws {
        let layout = try ParallelLayout(tensor: tensor, pipeline: pipeline)
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: Self.model))
        let first = PrefixReuseTests.request("You are a helpful assistant. Tell me about foxes", maxTokens: 12)
        let second = PrefixReuseTests.request("You are a helpful assistant. Tell me about owls")
        let shared = zip(first.promptTokens, second.promptTokens).prefix { $0 == $1 }.count
        let (alone, beside) = try withParallelRuntime(Self.model, layout: layout, slotsPerReplica: 2) { runner in
            (try Self.fresh(second, runner: runner, tokenizer: tokenizer),
             try Self.runBeside(first, second, runner: runner, tokenizer: tokenizer))
        }
        #expect(beside.0.cachedPromptTokens == 0)
        #expect(beside.1.cachedPromptTokens == shared)
        PrefixReuseTests.expectSame(beside.1, alone)
    }

    @Test("data-parallel replicas copy only within a replica")
    func replicas() throws {
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: Self.model))
        let first = PrefixReuseTests.request("Shared system prompt: be brief. Question one", maxTokens: 12)
        let second = PrefixReuseTests.request("Shared system prompt: be brief. Question two")
        let shared = zip(first.promptTokens, second.promptTokens).prefix { $0 == $1 }.count
        for slots in [1, 2] {
            let layout = try ParallelLayout(tensor: 1, pipeline: 1, data: 2)
            let (alone, beside) = try withParallelRuntime(Self.model, layout: layout, slotsPerReplica: slots) { runner in
                (try Self.fresh(second, runner: runner, tokenizer: tokenizer),
                 try Self.runBeside(first, second, runner: runner, tokenizer: tokenizer))
            }
            // One slot per replica: the only free slot is the other replica's; two: a slot of
            // the first sequence's replica is free and is chosen for the copy.
            #expect(beside.1.cachedPromptTokens == (slots == 1 ? 0 : shared), "\(slots) slot(s) per replica")
            PrefixReuseTests.expectSame(beside.1, alone)
        }
    }

    @Test("a copy covers the prompt's first chunk only and leaves the source's rows intact")
    func sourceUnchanged() throws {
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: Self.model))
        let first = PrefixReuseTests.request("Pipelines pass activations between stages", maxTokens: 10)
        let second = PrefixReuseTests.request("Pipelines pass gradients back")
        let (alone, beside) = try withParallelRuntime(Self.model, layout: try ParallelLayout(), slotsPerReplica: 2) { runner in
            (try Self.fresh(first, runner: runner, tokenizer: tokenizer),
             try Self.runBeside(first, second, runner: runner, tokenizer: tokenizer))
        }
        PrefixReuseTests.expectSame(beside.0, alone)
    }
}
