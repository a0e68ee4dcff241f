import Foundation
import Testing
import TridentEngine
import TridentModel
import TridentTokenizer

/// The continuous-batching generator, the stop conditions and perplexity on a scripted runner:
/// no model, so the expected tokens follow from the script by arithmetic.
@Suite("BatchGenerator on a scripted runner")
struct BatchGeneratorTests {
    /// After token `t` the script's most likely token is `successor(t)`, by a margin of 8.
    static func successor(_ token: Int32, vocabulary: Int) -> Int32 { 40 + (token - 40 + 1 + 60) % 60 }

    static func runner(slots: Int, capacity: Int = 64, flat: Bool = false) throws -> (ScriptedRunner, Tokenizer) {
        let (configuration, tokenizer) = try TinyFixture.load()
        let vocabulary = configuration.vocabularySize
        let runner = ScriptedRunner(configuration: configuration, capacity: capacity, slotCount: slots) { token, position in
            // flat: a broad position-dependent distribution for sampling tests.
            var logits = [Float](repeating: 0, count: vocabulary)
            if flat {
                for i in 0..<vocabulary { logits[i] = Float((i * 31 + position * 17 + Int(token)) % 97) / 40 }
            } else {
                logits[Int(successor(token, vocabulary: vocabulary))] = 8
            }
            return logits
        }
        return (runner, tokenizer)
    }

    static func expected(_ request: GenerationRequest, vocabulary: Int) -> [Int32] {
        var last = request.promptTokens.last!
        return (0..<request.maxTokens).map { _ in
            last = successor(last, vocabulary: vocabulary)
            return last
        }
    }

    static func requests(_ count: Int) -> [GenerationRequest] {
        (0..<count).map { i in
            GenerationRequest(promptTokens: (0...(i % 3)).map { Int32(45 + i + $0) }, maxTokens: 3 + 2 * i,
                              ignoreEndOfGeneration: true)
        }
    }

    @Test("seven requests on 2 slots: each gets the script's continuation; slots reused, positions consecutive")
    func continuousBatching() throws {
        let (runner, tokenizer) = try Self.runner(slots: 2)
        let requests = Self.requests(7)
        var finished: [Int] = []
        let results = try BatchGenerator(runner: runner, tokenizer: tokenizer)
            .generate(requests, onFinish: { index, _ in finished.append(index) })
        #expect(runner.violations.isEmpty, "\(runner.violations)")
        for (request, result) in zip(requests, results) {
            #expect(result.tokens == Self.expected(request, vocabulary: runner.configuration.vocabularySize))
            #expect(result.stopReason == .length)
            #expect(result.promptTokens == request.promptTokens)
        }
        #expect(finished.sorted() == Array(0..<7))
        #expect(runner.sequencesStarted == 7)
        #expect(runner.stepSizes.allSatisfy { $0 >= 1 && $0 <= 2 })
        // Two slots busy most of the time: far fewer steps than generating one at a time.
        let total = requests.reduce(0) { $0 + $1.maxTokens }
        #expect(runner.stepSizes.count < total)
    }

    @Test("sampled sequences generated together equal each generated alone (per-sequence sampler state)")
    func samplingIndependentOfBatching() throws {
        let requests = (0..<5).map { i in
            GenerationRequest(promptTokens: [Int32(50 + i), 60], maxTokens: 12,
                              sampling: SamplingParameters(temperature: 0.9, topK: 20, seed: UInt64(100 + i)),
                              ignoreEndOfGeneration: true)
        }
        let (together, tokenizer) = try Self.runner(slots: 3, flat: true)
        let batched = try BatchGenerator(runner: together, tokenizer: tokenizer).generate(requests).map(\.tokens)
        let alone = try requests.map { request -> [Int32] in
            let (runner, tokenizer) = try Self.runner(slots: 1, flat: true)
            return try BatchGenerator(runner: runner, tokenizer: tokenizer).generate(request).tokens
        }
        #expect(batched == alone)
        #expect(Set(batched).count == 5, "different seeds give different streams")
    }

    @Test("a full context stops with .length at the slot's capacity, never beyond it")
    func capacityLimit() throws {
        let (runner, tokenizer) = try Self.runner(slots: 1, capacity: 10)
        let request = GenerationRequest(promptTokens: [45, 46, 47, 48], maxTokens: 100, ignoreEndOfGeneration: true)
        let result = try BatchGenerator(runner: runner, tokenizer: tokenizer).generate(request)
        #expect(runner.violations.isEmpty, "\(runner.violations)")
        #expect(result.stopReason == .length)
        #expect(result.tokens.count == 10 - 4)
        #expect(result.tokens == Array(Self.expected(request, vocabulary: runner.configuration.vocabularySize).prefix(6)))
    }

    @Test("a stop string ends the sequence; the text is everything before its first occurrence")
    func stopString() throws {
        let (runner, tokenizer) = try Self.runner(slots: 1)
        let plain = GenerationRequest(promptTokens: [45], maxTokens: 12, ignoreEndOfGeneration: true)
        let full = tokenizer.decode(Self.expected(plain, vocabulary: runner.configuration.vocabularySize).map(Int.init))
        try #require(full.count >= 8, "the script's text: \(full.debugDescription)")
        let stop = String(full.dropFirst(4).prefix(2))
        var request = plain
        request.stopStrings = [stop]
        var streamed = ""
        let result = try BatchGenerator(runner: runner, tokenizer: tokenizer).generate(request) { streamed += $0 }
        let cut = try #require(full.range(of: stop))
        #expect(result.stopReason == .stop)
        #expect(result.text == String(full[..<cut.lowerBound]))
        #expect(streamed == result.text)
        #expect(result.tokens.count < 12)
    }

    @Test("empty and too long prompts are refused before any step")
    func refusedPrompts() throws {
        let (runner, tokenizer) = try Self.runner(slots: 1, capacity: 8)
        let generator = BatchGenerator(runner: runner, tokenizer: tokenizer)
        #expect(throws: GenerationError.self) { try generator.generate(GenerationRequest(promptTokens: [], maxTokens: 4)) }
        #expect(throws: GenerationError.self) {
            try generator.generate(GenerationRequest(promptTokens: Array(repeating: 45, count: 8), maxTokens: 4))
        }
        #expect(runner.stepSizes.isEmpty)
    }

    @Test("perplexity of uniform logits is the vocabulary size; of the script's text, exp of its arithmetic loss")
    func perplexity() throws {
        let (runner, _) = try Self.runner(slots: 2)
        let vocabulary = Double(runner.configuration.vocabularySize)
        // A text that follows the script: the right token has logit 8, the others 0.
        var tokens: [Int32] = [45]
        while tokens.count < 64 { tokens.append(Self.successor(tokens.last!, vocabulary: Int(vocabulary))) }
        var progress: [Int] = []
        let result = try PerplexityEvaluator.evaluate(runner: runner, tokens: tokens, context: 16) { progress.append($0.chunks) }
        let loss = log(exp(8) + vocabulary - 1) - 8
        #expect(abs(result.perplexity - exp(loss)) < 1e-4 * exp(loss))
        #expect(result.chunks == 4 && result.scoredTokens == 4 * 7)
        #expect(progress == [2, 4])
        // Uniform: every token has probability 1/V.
        let uniform = ScriptedRunner(configuration: runner.configuration, capacity: 64, slotCount: 1) { _, _ in
            [Float](repeating: 0.25, count: Int(vocabulary))
        }
        let flat = try PerplexityEvaluator.evaluate(runner: uniform, tokens: tokens, context: 8)
        #expect(abs(flat.perplexity - vocabulary) < 1e-6 * vocabulary)
    }
}
