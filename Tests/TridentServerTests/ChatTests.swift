import Foundation
import Testing

/// Chat completions on SmolLM2-135M-Instruct (its GGUF carries a chat template); skipped
/// when `models/` lacks the file.
@Suite("chat completions on SmolLM2", .serialized, .enabled(if: TestModels.hasSmolLM2))
struct ChatTests {
    static func server() async throws -> TestServer {
        var options = TestServer.Options()
        options.model = TestModels.smolLM2
        options.name = "smollm2"
        options.capacity = 512
        return try await TestServer.start(options)
    }

    @Test("a greedy chat answer, streamed and plain, with logprobs; unknown role 400")
    func chat() async throws {
        let server = try await Self.server()
        defer { server.stop() }
        let messages: [[String: Any]] = [["role": "system", "content": "You are terse."],
                                         ["role": "user", "content": "What is the capital of France?"]]
        let plain = try await server.post("/v1/chat/completions", ["model": "smollm2", "messages": messages, "max_tokens": 12,
                                                             "temperature": 0, "logprobs": true, "top_logprobs": 2])
        #expect(plain.status == 200, "\(plain.text)")
        let content = try #require(plain.choiceText())
        #expect(content.contains("Paris"), "\(content)")
        #expect(plain.json?["object"] as? String == "chat.completion")
        let entries = try #require((plain.choice()?["logprobs"] as? [String: Any])?["content"] as? [[String: Any]])
        #expect(entries.map { $0["token"] as? String ?? "" }.joined() == content)
        #expect(entries.allSatisfy { ($0["top_logprobs"] as? [Any])?.count == 2 })

        let streamed = try await server.post("/v1/chat/completions", ["messages": messages, "max_completion_tokens": 12,
                                                                "temperature": 0, "stream": true])
        let deltas = streamed.chunks.compactMap {
            (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String
        }
        #expect(deltas.joined() == content)
        #expect(streamed.chunks.first?["object"] as? String == "chat.completion.chunk")
        #expect(streamed.events.last == "[DONE]")

        let bad = try await server.post("/v1/chat/completions", ["messages": [["role": "robot", "content": "hi"]]])
        #expect(bad.status == 400 && bad.error?["param"] as? String == "messages[0].role")
    }
}
