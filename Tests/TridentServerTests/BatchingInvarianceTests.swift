import Foundation
import Testing
import TridentCollectives

/// Greedy results do not depend on batching: each of 32 prompts alone equals the same prompt
/// among 31 concurrent others (continuous batching, slots joining and leaving), on one rank
/// and on TP2 and PP2 (ranks as threads).
@Suite("greedy results alone equal results among 31 concurrent requests", .serialized)
struct BatchingInvarianceTests {
    static let prompts = (0..<32).map { "Request \($0): the \(["cat", "dog", "bird", "fish"][$0 % 4]) said" }

    static func check(_ layout: ParallelLayout) async throws {
        var options = TestServer.Options()
        options.layout = layout
        options.slots = 16
        let server = try await TestServer.start(options)
        defer { server.stop() }
        @Sendable func body(_ prompt: String) -> [String: Any] {
            ["prompt": prompt, "max_tokens": 16 + prompt.count % 9, "temperature": 0]
        }
        var alone: [String] = []
        for prompt in prompts {
            let reply = try await server.post("/v1/completions", body(prompt))
            try #require(reply.status == 200, "\(reply.text)")
            alone.append(reply.choiceText() ?? "?")
        }
        let together = prompts.map { prompt in AsyncReply { try server.postBlocking("/v1/completions", body(prompt)) } }
        for (i, reply) in together.enumerated() {
            let reply = try await reply.value()
            #expect(reply.status == 200)
            #expect(reply.choiceText() == alone[i], "prompt \(i) on \(layout)")
        }
        #expect(Set(alone).count > 8, "the prompts give different streams")
    }

    @Test("one rank") func singleRank() async throws { try await Self.check(ParallelLayout()) }
    @Test("TP2 (threads)") func tensorParallel() async throws { try await Self.check(ParallelLayout(tensor: 2)) }
    @Test("PP2 (threads)") func pipelineParallel() async throws { try await Self.check(ParallelLayout(pipeline: 2)) }
}
