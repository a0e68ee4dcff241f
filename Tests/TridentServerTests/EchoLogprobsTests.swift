import Foundation
import Testing
import TridentCollectives
import TridentEngine
import TridentFormats
import TridentModel
import TridentTokenizer

/// `echo` with `logprobs` on `/v1/completions` scores the prompt as OpenAI and vLLM do: the
/// prompt's tokens come first, the first with null log-probabilities, each later one with
/// `log softmax(logits of the position before)[token]`, checked against one `.all` forward of
/// the whole prompt on one rank.
@Suite("echo with logprobs scores the prompt", .serialized)
struct EchoLogprobsTests {
    static let prompt = "Once upon a time there was a little"

    /// The prompt's ids and, per token after the first, its log-probability and the largest
    /// log-probability at its position (float64 log-softmax of one forward's logits).
    static func reference() throws -> (ids: [Int32], logprobs: [Double], best: [Double]) {
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: TestModels.tiny))
        let ids = tokenizer.encode(prompt, parseSpecial: true).map { Int32($0) }
        let world = LocalCommunicator.makeGroup(size: 1)[0]
        let runtime = try RankRuntime.load(path: TestModels.tiny, world: world, threads: 1, capacity: 128)
        let rows = try DistributedRunner.drive(runtime) { runner in
            try runner.forward([SequenceChunk(slot: 0, start: 0, tokens: ids, logits: .all)])[0]
        }
        let vocabulary = rows.count / ids.count
        var logprobs: [Double] = [], best: [Double] = []
        for i in 0..<(ids.count - 1) {
            let row = rows[(i * vocabulary)..<((i + 1) * vocabulary)].map { Double($0) }
            let top = row.max()!
            let logZ = top + log(row.reduce(0) { $0 + exp($1 - top) })
            logprobs.append(row[Int(ids[i + 1])] - logZ)
            best.append(top - logZ)
        }
        return (ids, logprobs, best)
    }

    static func check(_ layout: ParallelLayout) async throws {
        var options = TestServer.Options()
        options.layout = layout
        let server = try await TestServer.start(options)
        defer { server.stop() }
        let reference = try await offPool { try Self.reference() }
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: TestModels.tiny))
        let texts = reference.ids.map { String(decoding: tokenizer.bytes(of: Int($0)), as: UTF8.self) }
        let body: [String: Any] = ["prompt": Self.prompt, "max_tokens": 5, "temperature": 0, "logprobs": 2]
        var echoed = body
        echoed["echo"] = true
        let plain = try await server.post("/v1/completions", body)
        let reply = try await server.post("/v1/completions", echoed)
        try #require(reply.status == 200 && plain.status == 200, "\(reply.text)")
        let logprobs = try #require(reply.choice()?["logprobs"] as? [String: Any])
        let tokens = try #require(logprobs["tokens"] as? [String])
        let values = try #require(logprobs["token_logprobs"] as? [Any])
        let tops = try #require(logprobs["top_logprobs"] as? [Any])
        let offsets = try #require(logprobs["text_offset"] as? [Int])
        let n = reference.ids.count
        try #require(tokens.count == values.count && tops.count == values.count && offsets.count == values.count)
        #expect(Array(tokens.prefix(n)) == texts, "the prompt's tokens come first")
        #expect(values.first is NSNull && tops.first is NSNull, "the first prompt token has no log-probability")
        for i in 1..<n {
            let value = try #require(values[i] as? Double, "prompt token \(i)")
            #expect(abs(value - reference.logprobs[i - 1]) < 2e-3, "token \(i): \(value) vs \(reference.logprobs[i - 1])")
            let top = try #require(tops[i] as? [String: Double])
            #expect(top.count >= 1 && top.count <= 2)
            #expect(abs((top.values.max() ?? 0) - reference.best[i - 1]) < 2e-3, "the most likely at \(i)")
        }
        #expect(offsets[0] == 0 && zip(offsets, offsets.dropFirst()).allSatisfy { $0 <= $1 })
        // After the prompt: exactly what the request without echo reports, offsets after the prompt text.
        let generated = try #require(plain.choice()?["logprobs"] as? [String: Any])
        #expect(Array(tokens.dropFirst(n)) == generated["tokens"] as? [String])
        let tail = values.dropFirst(n).compactMap { $0 as? Double }
        let expected = generated["token_logprobs"] as? [Double] ?? []
        #expect(tail.count == expected.count && zip(tail, expected).allSatisfy { abs($0 - $1) < 1e-4 })
        if offsets.count > n { #expect(offsets[n] == Self.prompt.utf8.count, "the completion's offsets follow the echo") }
        #expect(reply.choiceText() == Self.prompt + (plain.choiceText() ?? "?"))

        // Streamed: the first chunk is the echoed prompt with the same log-probabilities.
        var streamed = echoed
        streamed["stream"] = true
        let stream = try await server.post("/v1/completions", streamed)
        let first = try #require((stream.chunks.first?["choices"] as? [[String: Any]])?.first)
        #expect(first["text"] as? String == Self.prompt)
        let firstLogprobs = try #require(first["logprobs"] as? [String: Any])
        #expect(firstLogprobs["tokens"] as? [String] == texts)
        let streamedValues = (firstLogprobs["token_logprobs"] as? [Any] ?? []).dropFirst().compactMap { $0 as? Double }
        let plainValues = values[1..<n].compactMap { $0 as? Double }
        #expect(streamedValues.count == n - 1 && zip(streamedValues, plainValues).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    @Test("one rank") func singleRank() async throws { try await Self.check(ParallelLayout()) }
    @Test("TP2 (threads)") func tensorParallel() async throws { try await Self.check(ParallelLayout(tensor: 2)) }
    @Test("PP2 (threads)") func pipelineParallel() async throws { try await Self.check(ParallelLayout(pipeline: 2)) }
}
