import Foundation
import Testing
import TridentTestSupport

/// Clients that leave before their answer: a non-streaming request, running or still queued,
/// is cancelled as soon as the connection closes, and its slot and KV blocks are freed.
@Suite("clients that disconnect from non-streaming requests", .serialized)
struct DisconnectTests {
    /// A non-streaming completion sent on a connection the caller keeps (and closes by dropping it).
    static func send(_ json: [String: Any], port: Int) async throws -> RawConnection {
        let body = try JSONSerialization.data(withJSONObject: json)
        let head = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.count)\r\n\r\n"
        return try await offPool {
            let connection = try RawConnection(port: port, timeout: 30)
            try connection.send(Array(head.utf8) + Array(body))
            return connection
        }
    }

    /// Polls `condition` every 50 ms for at most `seconds`. - Returns: whether it held.
    static func eventually(_ seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    static let clientClosed = "trident_requests_total{endpoint=\"/v1/completions\",status=\"499\"}"

    @Test("a running non-streaming request is cancelled when its client closes; its KV blocks are released")
    func runningRequest() async throws {
        var options = TestServer.Options()
        options.slots = 1
        options.kvBytes = 32 << 20
        options.wrap = { ThrottledRunner($0, delay: 0.05) }  // 100 tokens would take at least 5 s
        let server = try await TestServer.start(options)
        defer { server.stop() }
        var connection: RawConnection? = try await Self.send(
            ["prompt": "Long story", "max_tokens": 100, "temperature": 0], port: server.port)
        #expect(try await Self.eventually(60) {
            let running = try await server.metric("trident_running_sequences")
            let used = try await server.metric("trident_kv_cache_blocks_used") ?? 0
            return running == 1 && used > 0
        }, "the request runs and holds KV blocks")
        let total = try #require(try await server.metric("trident_kv_cache_blocks_total"))
        #expect(total > 0)
        withExtendedLifetime(connection) {}
        connection = nil  // closes the socket
        #expect(try await Self.eventually(30) {
            let cancelled = try await server.metric("trident_cancelled_requests_total")
            let running = try await server.metric("trident_running_sequences")
            let used = try await server.metric("trident_kv_cache_blocks_used")
            return cancelled == 1 && running == 0 && used == 0
        }, "cancelled, slot and KV blocks freed")
        #expect(try await server.metric("trident_generation_tokens_total") ?? 0 < 100, "it did not run to the end")
        #expect(try await Self.eventually(10) { try await server.metric(Self.clientClosed) == 1 }, "counted as 499")
        // The only slot is free: a new request is answered at once.
        let next = try await server.post("/v1/completions", ["prompt": "next", "max_tokens": 2])
        #expect(next.status == 200, "\(next.text)")
    }

    @Test("a queued non-streaming request whose client leaves never runs")
    func queuedRequest() async throws {
        let gate = ThrottledRunner.Gate()
        var options = TestServer.Options()
        options.slots = 1
        options.kvBytes = 32 << 20
        options.wrap = { ThrottledRunner($0, gate: gate) }
        let server = try await TestServer.start(options)
        defer { server.stop() }
        let first = AsyncReply { try server.postBlocking("/v1/completions", ["prompt": "first", "max_tokens": 3]) }
        #expect(try await Self.eventually(60) { gate.waiting > 0 }, "the engine holds the first request")
        var second: RawConnection? = try await Self.send(["prompt": "second", "max_tokens": 50], port: server.port)
        try await Task.sleep(for: .milliseconds(300))  // the second reaches the engine's inbox
        withExtendedLifetime(second) {}
        second = nil
        try await Task.sleep(for: .milliseconds(300))  // the close reaches the server
        gate.openUp()
        #expect(try await first.value().status == 200)
        #expect(try await Self.eventually(30) {
            let cancelled = try await server.metric("trident_cancelled_requests_total")
            let queued = try await server.metric("trident_queue_depth")
            let used = try await server.metric("trident_kv_cache_blocks_used")
            return cancelled == 1 && queued == 0 && used == 0
        })
        #expect(try await server.metric("trident_generation_tokens_total") ?? 0 <= 3, "only the first generated")
    }
}
