import Foundation
import Testing
import TridentEngine
@testable import TridentServer

/// The OpenAI endpoints against the tiny fixture served in-process, compared with the same
/// model run directly by `BatchGenerator` (one rank, one request at a time).
@Suite("trident serve endpoints on the tiny fixture", .serialized)
struct EndpointTests {
    static let prompt = "Once upon a time"

    @Test("GET /v1/models lists the served name; /health is 200 once ready")
    func modelsAndHealth() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let models = try await server.get("/v1/models")
        #expect(models.status == 200)
        let data = try #require(models.json?["data"] as? [[String: Any]])
        #expect(data.count == 1 && data[0]["id"] as? String == "tiny" && data[0]["object"] as? String == "model")
        #expect(try await server.get("/health").status == 200)
    }

    @Test("a greedy completion equals BatchGenerator's text and token count; usage adds up")
    func greedyCompletion() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let reference = try await offPool { try Reference.generate(prompt: Self.prompt, maxTokens: 20) }
        let reply = try await server.post("/v1/completions", ["model": "tiny", "prompt": Self.prompt, "max_tokens": 20,
                                                        "temperature": 0])
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply.choiceText() == reference.text)
        #expect(reply.json?["object"] as? String == "text_completion")
        let usage = try #require(reply.usage)
        #expect(usage["prompt_tokens"] == reference.promptTokens.count)
        #expect(usage["completion_tokens"] == reference.tokens.count)
        #expect(usage["total_tokens"] == reference.promptTokens.count + reference.tokens.count)
        #expect(reply.choice()?["finish_reason"] as? String == (reference.stopReason == .length ? "length" : "stop"))
    }

    @Test("streamed deltas concatenate to the plain answer; usage chunk last, then [DONE]")
    func streaming() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let body: [String: Any] = ["prompt": Self.prompt, "max_tokens": 24, "temperature": 0]
        let plain = try await server.post("/v1/completions", body)
        var streamed = body
        streamed["stream"] = true
        streamed["stream_options"] = ["include_usage": true]
        let reply = try await server.post("/v1/completions", streamed)
        #expect(reply.status == 200)
        #expect(reply.headers["content-type"]?.hasPrefix("text/event-stream") == true)
        #expect(reply.events.last == "[DONE]")
        let chunks = reply.chunks
        let text = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["text"] as? String }.joined()
        #expect(text == plain.choiceText())
        let last = try #require(chunks.last)
        #expect((last["choices"] as? [Any])?.isEmpty == true)
        #expect(HTTPReply.counts(last["usage"])?["completion_tokens"] == plain.usage?["completion_tokens"])
        let reasons = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String }
        #expect(reasons == [plain.choice()?["finish_reason"] as? String].compactMap { $0 })
    }

    @Test("logprobs: one entry per token, the greedy token is the most likely, log-probabilities <= 0")
    func logprobs() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let reply = try await server.post("/v1/completions", ["prompt": Self.prompt, "max_tokens": 8, "temperature": 0,
                                                        "logprobs": 3])
        #expect(reply.status == 200)
        let logprobs = try #require(reply.choice()?["logprobs"] as? [String: Any])
        let tokens = try #require(logprobs["tokens"] as? [String])
        let values = try #require(logprobs["token_logprobs"] as? [Double])
        let tops = try #require(logprobs["top_logprobs"] as? [[String: Double]])
        #expect(tokens.count == values.count && tops.count == tokens.count && !tokens.isEmpty)
        #expect(tokens.joined() == reply.choiceText())
        for (i, top) in tops.enumerated() {
            #expect(top.count <= 3 && !top.isEmpty)
            #expect(values[i] <= 0)
            #expect(abs(values[i] - top.values.max()!) < 1e-4, "greedy picks the most likely token")
        }
    }

    @Test("n=3 sampled with a seed: three choices, reproducible; a stop string cuts the text")
    func choicesAndStop() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let body: [String: Any] = ["prompt": Self.prompt, "max_tokens": 12, "temperature": 1.0, "seed": 7, "n": 3]
        let first = try await server.post("/v1/completions", body), second = try await server.post("/v1/completions", body)
        #expect(first.status == 200)
        let texts = (0..<3).compactMap { first.choiceText($0) }
        #expect(texts.count == 3)
        #expect(texts == (0..<3).compactMap { second.choiceText($0) })
        #expect((first.json?["choices"] as? [[String: Any]])?.map { $0["index"] as? Int } == [0, 1, 2])

        let greedy = try #require(try await server.post("/v1/completions", ["prompt": Self.prompt, "max_tokens": 16,
                                                                      "temperature": 0]).choiceText())
        try #require(greedy.count >= 6, "the fixture's text: \(greedy.debugDescription)")
        let stop = String(greedy.dropFirst(3).prefix(2))
        let cut = try #require(greedy.range(of: stop))
        let stopped = try await server.post("/v1/completions", ["prompt": Self.prompt, "max_tokens": 16, "temperature": 0,
                                                          "stop": [stop, "never-appears"]])
        #expect(stopped.choiceText() == String(greedy[..<cut.lowerBound]))
        #expect(stopped.choice()?["finish_reason"] as? String == "stop")
    }

    @Test("echo prepends the prompt; token-id prompts work; penalties change a greedy stream")
    func echoTokensPenalties() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let plain = try await server.post("/v1/completions", ["prompt": Self.prompt, "max_tokens": 10, "temperature": 0])
        let echoed = try await server.post("/v1/completions", ["prompt": Self.prompt, "max_tokens": 10, "temperature": 0,
                                                         "echo": true])
        #expect(echoed.choiceText() == Self.prompt + (plain.choiceText() ?? "?"))
        let ids = server.server.tokenizer.encode(Self.prompt, parseSpecial: true)
        let byIDs = try await server.post("/v1/completions", ["prompt": ids, "max_tokens": 10, "temperature": 0])
        #expect(byIDs.choiceText() == plain.choiceText())
        let penalized = try await server.post("/v1/completions", ["prompt": Self.prompt, "max_tokens": 30, "temperature": 0,
                                                            "frequency_penalty": 2, "presence_penalty": 2])
        let long = try await server.post("/v1/completions", ["prompt": Self.prompt, "max_tokens": 30, "temperature": 0])
        #expect(penalized.status == 200)
        #expect(penalized.choiceText() != long.choiceText())
    }

    @Test("API key: /v1 needs 'Bearer <key>' (401 without or wrong); /health and /metrics do not")
    func apiKey() async throws {
        var options = TestServer.Options()
        options.apiKey = "s3cret"
        let server = try await TestServer.start(options)
        defer { server.stop() }
        let body: [String: Any] = ["prompt": "Hi", "max_tokens": 2]
        #expect(try await server.post("/v1/completions", body).status == 401)
        let wrong = try await server.post("/v1/completions", body, headers: ["Authorization": "Bearer s3cre"])
        #expect(wrong.status == 401 && wrong.error?["type"] as? String == "authentication_error")
        #expect(try await server.get("/v1/models").status == 401)
        #expect(try await server.post("/v1/completions", body, headers: ["Authorization": "Bearer s3cret"]).status == 200)
        #expect(try await server.get("/health").status == 200)
        #expect(try await server.get("/metrics").status == 200)
    }

    @Test("the Prometheus counters add up to what was sent")
    func metricsAddUp() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        var prompt = 0, generated = 0, cached = 0
        for i in 0..<5 {
            let reply = try await server.post("/v1/completions", ["prompt": "Story \(i)", "max_tokens": 4 + i, "temperature": 0])
            prompt += reply.usage?["prompt_tokens"] ?? -100
            generated += reply.usage?["completion_tokens"] ?? -100
            cached += reply.usage?["cached_tokens"] ?? -100
        }
        _ = try await server.post("/v1/completions", ["prompt": ""])
        let text = try await server.get("/metrics").text
        func sample(_ name: String, _ labels: [String] = []) -> Double? {
            text.split(separator: "\n").first { line in
                line.hasPrefix(name) && !line.hasPrefix("#") && labels.allSatisfy { line.contains($0) }
            }.flatMap { Double($0.split(separator: " ").last!) }
        }
        #expect(sample("trident_requests_total", ["\"/v1/completions\"", "\"200\""]) == 5)
        #expect(sample("trident_requests_total", ["\"/v1/completions\"", "\"400\""]) == 1)
        #expect(sample("trident_prompt_tokens_total") == Double(prompt))
        #expect(cached > 0, "the later prompts share 'Story ' with the earlier ones")
        #expect(sample("trident_prompt_tokens_cached_total") == Double(cached))
        #expect(sample("trident_generation_tokens_total") == Double(generated))
        #expect(sample("trident_time_to_first_token_seconds_count") == 5)
        #expect(sample("trident_inter_token_latency_seconds_count") == Double(generated - 5))
        #expect(sample("trident_running_sequences") == 0)
        #expect(sample("trident_queue_depth") == 0)
    }
}
