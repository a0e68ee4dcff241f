import Foundation
import Logging
import Testing
import TridentCollectives
import TridentEngine
import TridentFormats
import TridentModel
@testable import TridentServer
import TridentTokenizer

/// Loading, back-pressure, disconnects, draining and a dead rank.
@Suite("trident serve lifecycle", .serialized)
struct LifecycleTests {
    @Test("while the model loads /health and requests get 503")
    func loading() async throws {
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: TestModels.tiny))
        var configuration = ServerConfiguration(servedModelName: "tiny")
        configuration.port = 0
        let engine = EngineLoop(maxQueue: 4, metrics: ServerMetrics(), logger: Logger(label: "test"))
        let server = OpenAIServer(configuration: configuration, engine: engine, tokenizer: tokenizer,
                                  logger: Logger(label: "test"))
        let listening = try await offPool { try server.listen() }
        defer { listening.stop() }
        let port = listening.port
        let health = try await offPool { try RawHTTP.request(port: port, method: "GET", path: "/health") }
        #expect(health.status == 503)
        let reply = try await offPool { try RawHTTP.post(port: port, path: "/v1/completions", json: ["prompt": "hi"]) }
        #expect(reply.status == 503 && reply.error?["code"] as? String == "unavailable")
    }

    @Test("past --max-queue a request gets 429 while the engine is busy")
    func queueFull() async throws {
        let gate = ThrottledRunner.Gate()
        var options = TestServer.Options()
        options.slots = 1
        options.maxQueue = 1
        options.wrap = { ThrottledRunner($0, gate: gate) }
        let server = try await TestServer.start(options)
        defer { server.stop() }
        let first = AsyncReply { try server.postBlocking("/v1/completions", ["prompt": "first", "max_tokens": 3]) }
        while gate.waiting == 0 { try await Task.sleep(for: .milliseconds(10)) }  // the engine holds the first request
        let second = try await server.post("/v1/completions", ["prompt": "second", "max_tokens": 3])
        #expect(second.status == 429)
        #expect(second.error?["type"] as? String == "rate_limit_error")
        gate.openUp()
        #expect(try await first.value().status == 200)
        #expect(try await server.post("/v1/completions", ["prompt": "third", "max_tokens": 3]).status == 200)
    }

    @Test("a client that disconnects mid-stream has its sequence cancelled and its slot freed")
    func disconnectCancels() async throws {
        var options = TestServer.Options()
        options.slots = 1
        options.wrap = { ThrottledRunner($0, delay: 0.02) }
        let server = try await TestServer.start(options)
        defer { server.stop() }
        let body = try JSONSerialization.data(withJSONObject: ["prompt": "Long story", "max_tokens": 100,
                                                           "stream": true, "temperature": 0])
        let head = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
        let port = server.port
        try await offPool {
            let connection = try RawConnection(port: port, timeout: 30)
            try connection.send(Array(head.utf8) + Array(body))
            var received: [UInt8] = []
            while RawHTTP.find(Array("\"text\"".utf8), in: received) == nil { received += try connection.read() }
        }  // closed here, a few tokens in
        let started = Date()
        var cancelled = 0.0
        while Date().timeIntervalSince(started) < 20 {
            cancelled = try await server.metric("trident_cancelled_requests_total") ?? 0
            if cancelled >= 1 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(cancelled == 1)
        // The only slot is free again: a new request runs at once (not after 100 tokens).
        let next = try await server.post("/v1/completions", ["prompt": "next", "max_tokens": 2])
        #expect(next.status == 200)
        #expect(try await server.metric("trident_generation_tokens_total") ?? 0 < 50, "the cancelled request did not run on")
    }

    @Test("draining finishes running requests, refuses new ones with 503, then the engine stops")
    func drain() async throws {
        var options = TestServer.Options()
        options.wrap = { ThrottledRunner($0, delay: 0.01) }
        let server = try await TestServer.start(options)
        let running = AsyncReply { try server.postBlocking("/v1/completions", ["prompt": "Drain", "max_tokens": 30, "temperature": 0]) }
        while (try await server.metric("trident_running_sequences") ?? 0) < 1 { try await Task.sleep(for: .milliseconds(10)) }
        server.engine.drain(timeout: .seconds(30))
        #expect(try await server.post("/v1/completions", ["prompt": "late", "max_tokens": 2]).status == 503)
        #expect(try await server.get("/health").status == 503)
        let reply = try await running.value()
        #expect(reply.status == 200)
        #expect(try await server.waitForEngine(seconds: 30))
        server.stop()
    }

    @Test("a drain past its timeout fails the open request cleanly")
    func drainTimeout() async throws {
        let gate = ThrottledRunner.Gate()
        var options = TestServer.Options()
        options.wrap = { ThrottledRunner($0, gate: gate) }
        let server = try await TestServer.start(options)
        let running = AsyncReply {
            try server.postBlocking("/v1/completions", ["prompt": EndpointTests.prompt, "max_tokens": 100, "temperature": 0])
        }
        while gate.waiting == 0 { try await Task.sleep(for: .milliseconds(10)) }  // its first step is held
        server.engine.drain(timeout: .milliseconds(100))
        try await Task.sleep(for: .milliseconds(300))
        gate.openUp()  // one step runs, then the expired drain fails what is left
        let reply = try await running.value()
        #expect(reply.status == 503, "\(reply.text)")
        #expect(reply.error?["message"] as? String == "the server shut down before the request finished")
        #expect(try await server.waitForEngine(seconds: 30))
        server.stop()
    }

    @Test("a dead rank (TP2) fails open requests with an error and /health turns 503, no hang")
    func deadRank() async throws {
        var options = TestServer.Options()
        options.layout = try ParallelLayout(tensor: 2)
        options.workerStepLimit = 3
        options.communicatorOptions = CommunicatorOptions(operationTimeout: .seconds(3), livenessTimeout: .seconds(1))
        let server = try await TestServer.start(options)
        defer { server.stop(drain: .seconds(1)) }
        let started = Date()
        let reply = try await server.post("/v1/completions", ["prompt": "Doomed", "max_tokens": 50, "temperature": 0])
        #expect(reply.status == 503, "\(reply.text)")
        #expect(reply.error?["type"] as? String == "server_error")
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(try await server.get("/health").status == 503)
        #expect(try await server.post("/v1/completions", ["prompt": "after", "max_tokens": 2]).status == 503)
    }
}

/// Runs a blocking request on another thread; `value()` waits for it.
final class AsyncReply: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<HTTPReply, any Error>?

    init(_ body: @escaping @Sendable () throws -> HTTPReply) {
        Thread { [self] in
            result = Result { try body() }
            done.signal()
        }.start()
    }

    func value(timeout: Double = 120) async throws -> HTTPReply {
        try await offPool { [self] in
            guard done.wait(timeout: .now() + timeout) == .success else {
                throw HTTPClientError(description: "request did not finish within \(timeout) s")
            }
            return try result!.get()
        }
    }
}
