import Foundation
import Testing
import TridentEngine
import TridentModel
import TridentTokenizer

/// The pull scheduler on a scripted runner: ids, cancellation, chunked prefill interleaved
/// with decoding, the KV block budget and the queue limit.
@Suite("Scheduler on a scripted runner")
struct SchedulerTests {
    typealias Fixture = BatchGeneratorTests

    /// Steps until idle. - Returns: per id, its generated tokens and result.
    static func drain(_ scheduler: Scheduler, maxSteps: Int = 10_000) throws -> [Int: GenerationResult] {
        var results: [Int: GenerationResult] = [:]
        var steps = 0
        while scheduler.hasWork && steps < maxSteps {
            for case let .finished(id, result) in try scheduler.step() { results[id] = result }
            steps += 1
        }
        return results
    }

    static func request(_ first: Int32, prompt: Int = 2, maxTokens: Int) -> GenerationRequest {
        GenerationRequest(promptTokens: (0..<prompt).map { first + Int32($0) }, maxTokens: maxTokens,
                          ignoreEndOfGeneration: true)
    }

    @Test("ids name each request's events; outputs stream every token before the finish event")
    func eventsPerID() throws {
        let (runner, tokenizer) = try Fixture.runner(slots: 2)
        let scheduler = Scheduler(runner: runner, tokenizer: tokenizer)
        let requests = (0..<5).map { Self.request(Int32(45 + $0), maxTokens: 3 + $0) }
        let ids = try requests.map { try scheduler.enqueue($0) }
        #expect(Set(ids).count == 5)
        var tokens: [Int: [Int32]] = [:]
        var finished: [Int: GenerationResult] = [:]
        while scheduler.hasWork {
            for event in try scheduler.step() {
                switch event {
                case let .output(id, output):
                    #expect(finished[id] == nil, "no output after the finish")
                    if let token = output.token { tokens[id, default: []].append(token) }
                case let .finished(id, result): finished[id] = result
                }
            }
            #expect(scheduler.runningCount <= 2)
        }
        #expect(runner.violations.isEmpty, "\(runner.violations)")
        for (id, request) in zip(ids, requests) {
            let expected = Fixture.expected(request, vocabulary: runner.configuration.vocabularySize)
            #expect(tokens[id] == expected && finished[id]?.tokens == expected)
        }
    }

    @Test("step(delivering:) hands a step's events over before the next step is submitted")
    func deliversBeforeSubmitting() throws {
        let (runner, tokenizer) = try Fixture.runner(slots: 2)
        let scheduler = Scheduler(runner: runner, tokenizer: tokenizer)
        for first in [Int32(45), 50] { _ = try scheduler.enqueue(Self.request(first, maxTokens: 4)) }
        var calls = 0, deliveries = 0
        while scheduler.hasWork {
            calls += 1
            let submittedBefore = runner.stepSizes.count
            try scheduler.step { events in
                deliveries += 1
                // Call n collects step n - 1: no step beyond it may have been submitted yet.
                #expect(runner.stepSizes.count == submittedBefore, "call \(calls): \(events.count) events")
                #expect(calls == 1 || !events.isEmpty, "call \(calls) collected a step with tokens")
            }
        }
        #expect(deliveries == calls && calls > 4)
    }

    @Test("cancelling a waiting and a running request: no more events for them, their slot serves the next")
    func cancellation() throws {
        let (runner, tokenizer) = try Fixture.runner(slots: 1)
        let scheduler = Scheduler(runner: runner, tokenizer: tokenizer)
        let running = try scheduler.enqueue(Self.request(45, maxTokens: 40))
        let waiting = try scheduler.enqueue(Self.request(50, maxTokens: 5))
        let last = try scheduler.enqueue(Self.request(55, maxTokens: 4))
        for _ in 0..<3 { _ = try scheduler.step() }
        #expect(scheduler.cancel(waiting))
        #expect(scheduler.cancel(running))
        #expect(!scheduler.cancel(12345))
        var seen = Set<Int>()
        var results: [Int: GenerationResult] = [:]
        while scheduler.hasWork {
            for event in try scheduler.step() {
                switch event {
                case .output(let id, _): seen.insert(id)
                case let .finished(id, result): seen.insert(id); results[id] = result
                }
            }
        }
        #expect(seen == [last])
        #expect(results[last]?.tokens == Fixture.expected(Self.request(55, maxTokens: 4), vocabulary: runner.configuration.vocabularySize))
        #expect(runner.violations.isEmpty, "\(runner.violations)")
        #expect(runner.stepSizes.count < 3 + 10, "the cancelled 40-token request did not run on")
    }

    @Test("a long prompt is prefilled in budget-sized chunks while another sequence keeps decoding every step")
    func chunkedPrefill() throws {
        let (runner, tokenizer) = try Fixture.runner(slots: 2)
        let scheduler = Scheduler(runner: runner, tokenizer: tokenizer)
        scheduler.prefillBudget = 4
        let decoding = Self.request(45, prompt: 2, maxTokens: 12)
        let long = Self.request(60, prompt: 15, maxTokens: 3)
        let a = try scheduler.enqueue(decoding)
        _ = try scheduler.step()  // a's prompt (2 tokens)
        let b = try scheduler.enqueue(long)
        var aTokensPerStep: [Int] = []
        var results: [Int: GenerationResult] = [:]
        while scheduler.hasWork {
            var aTokens = 0
            for event in try scheduler.step() {
                if case let .output(id, output) = event, id == a, output.token != nil { aTokens += 1 }
                if case let .finished(id, result) = event { results[id] = result }
            }
            aTokensPerStep.append(aTokens)
        }
        #expect(runner.violations.isEmpty, "\(runner.violations)")
        let vocabulary = runner.configuration.vocabularySize
        #expect(results[a]?.tokens == Fixture.expected(decoding, vocabulary: vocabulary))
        #expect(results[b]?.tokens == Fixture.expected(long, vocabulary: vocabulary))
        // While b's 15-token prompt went through in 4 steps (4+4+4+3), a got a token every step.
        #expect(aTokensPerStep.prefix(4) == [1, 1, 1, 1])
    }

    @Test("the KV budget: requests wait while their blocks are taken, all finish, never over budget")
    func kvBudget() throws {
        let (runner, tokenizer) = try Fixture.runner(slots: 4)
        // Each request: 2 prompt + 14 tokens = 16 positions = 2 blocks of 8; 5 blocks hold two at once.
        let scheduler = Scheduler(runner: runner, tokenizer: tokenizer, budget: KVBlockBudget(blockSize: 8, totalBlocks: 5))
        let requests = (0..<5).map { Self.request(Int32(45 + $0), maxTokens: 14) }
        let ids = try requests.map { try scheduler.enqueue($0) }
        var most = 0
        var results: [Int: GenerationResult] = [:]
        while scheduler.hasWork {
            for case let .finished(id, result) in try scheduler.step() { results[id] = result }
            most = max(most, scheduler.runningCount)
            #expect(scheduler.budget!.usedBlocks <= 5)
        }
        #expect(most == 2)
        #expect(scheduler.budget!.usedBlocks == 0)
        for (id, request) in zip(ids, requests) {
            #expect(results[id]?.tokens == Fixture.expected(request, vocabulary: runner.configuration.vocabularySize))
        }
        #expect(throws: SchedulerError.exceedsBudget(blocks: 6, total: 5)) {
            try scheduler.enqueue(Self.request(45, maxTokens: 46))
        }
    }

    @Test("past maxQueue enqueue throws queueFull; empty and too long prompts are refused")
    func queueLimit() throws {
        let (runner, tokenizer) = try Fixture.runner(slots: 1, capacity: 16)
        let scheduler = Scheduler(runner: runner, tokenizer: tokenizer, maxQueue: 2)
        _ = try scheduler.enqueue(Self.request(45, maxTokens: 3))
        _ = try scheduler.enqueue(Self.request(46, maxTokens: 3))
        #expect(throws: SchedulerError.queueFull(limit: 2)) { try scheduler.enqueue(Self.request(47, maxTokens: 3)) }
        #expect(throws: GenerationError.emptyPrompt(index: nil)) {
            try scheduler.enqueue(GenerationRequest(promptTokens: [], maxTokens: 3))
        }
        #expect(throws: GenerationError.self) { try scheduler.enqueue(Self.request(45, prompt: 16, maxTokens: 3)) }
        _ = try scheduler.step()  // admits one: room in the queue again
        _ = try scheduler.enqueue(Self.request(47, maxTokens: 3))
        #expect(try Self.drain(scheduler).count == 3)
    }
}
