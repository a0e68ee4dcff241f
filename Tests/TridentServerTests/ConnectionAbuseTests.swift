import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Connection-level abuse: 1000 idle connections beside a slow-loris header sender, bodies of
/// 10 MB (declared or chunked), and a client that goes silent mid-header. The server keeps
/// answering in time, answers 413 or closes, and gives back every descriptor afterwards.
@Suite("connection-level abuse", .serialized)
struct ConnectionAbuseTests {
    /// Descriptors this process has open (client and server sides of loopback connections alike).
    static func openFiles() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
    }

    /// Raises the soft descriptor limit towards `wanted` (at most the hard limit).
    /// - Returns: the soft limit now in force.
    static func raiseFileLimit(to wanted: Int) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < rlim_t(wanted) {
            limit.rlim_cur = min(limit.rlim_max, rlim_t(wanted))
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return Int(limit.rlim_cur)
    }

    /// Polls `condition` every 100 ms for at most `seconds`. - Returns: whether it held.
    static func eventually(_ seconds: Double, _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try condition()
    }

    /// A client that sends a request head one byte every `interval` seconds and never ends it.
    final class SlowLoris: @unchecked Sendable {
        private let stopped = NSCondition()
        private var stop = false
        private(set) var bytesSent = 0

        init(port: Int, interval: Double) throws {
            let connection = try RawConnection(port: port, timeout: 5)
            let head = Array("GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ".utf8) + [UInt8](repeating: 0x61, count: 100_000)
            Thread { [self] in
                for byte in head {
                    if (try? connection.send([byte])) == nil { break }
                    bytesSent += 1
                    let done = stopped.withLock {
                        if !stop { _ = stopped.wait(until: Date().addingTimeInterval(interval)) }
                        return stop
                    }
                    if done { break }
                }
                withExtendedLifetime(connection) {}
            }.start()
        }

        func finish() { stopped.withLock { stop = true; stopped.signal() } }
    }

    @Test("1000 idle connections and a slow-loris: a normal request is still answered in time; no descriptor leaks")
    func manyIdleConnections() async throws {
        let limit = Self.raiseFileLimit(to: 4096)
        let server = try await TestServer.start()
        defer { server.stop() }
        #expect(try await server.post("/v1/completions", ["prompt": "warm", "max_tokens": 2]).status == 200)
        try await Task.sleep(for: .milliseconds(200))
        let baseline = Self.openFiles()
        // Each connection costs two descriptors here (client and server side).
        let count = min(1000, (limit - baseline - 200) / 2)
        try #require(count >= 200, "descriptor limit \(limit) too low")
        let port = server.port
        var idle: [RawConnection]? = try await offPool { try (0..<count).map { _ in try RawConnection(port: port, timeout: 5) } }
        let loris = try SlowLoris(port: port, interval: 0.05)
        #expect(try await Self.eventually(30) { Self.openFiles() >= baseline + count + count / 2 },
                "the server accepted the idle connections")
        #expect(try await Self.eventually(30) { loris.bytesSent > 10 }, "the slow-loris is sending")
        let started = Date()
        #expect(try await server.get("/health").status == 200)
        let reply = try await server.post("/v1/completions", ["prompt": "still serving", "max_tokens": 4, "temperature": 0])
        #expect(reply.status == 200, "\(reply.text.prefix(200))")
        #expect(Date().timeIntervalSince(started) < 30, "answered beside \(count) idle connections")
        loris.finish()
        withExtendedLifetime(idle) {}
        idle = nil
        #expect(try await Self.eventually(60) { Self.openFiles() <= baseline + 4 },
                "descriptors back to \(baseline) (+4): \(Self.openFiles())")
        #expect(try await server.get("/health").status == 200)
    }

    /// Sends `head` and then `body` in 64 kB pieces, stopping when the server stops reading.
    /// - Returns: the answer's status, or nil when the server closed the connection instead.
    static func sendLarge(port: Int, head: String, body: [UInt8]) throws -> Int? {
        let connection = try RawConnection(port: port, timeout: 30)
        try connection.send(Array(head.utf8))
        var offset = 0
        while offset < body.count {
            let end = min(body.count, offset + 65536)
            if (try? connection.send(Array(body[offset..<end]))) == nil { break }
            offset = end
        }
        guard let bytes = try? connection.readAll(), let reply = try? RawHTTP.parse(bytes) else { return nil }
        return reply.status
    }

    @Test("10 MB bodies, declared or chunked, get 413 or a closed connection; the server still answers")
    func tenMegabyteBodies() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let port = server.port
        let body = [UInt8](repeating: UInt8(ascii: "a"), count: 10 << 20)
        let declared = try await offPool {
            try Self.sendLarge(port: port, head: "POST /v1/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                               + "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n", body: body)
        }
        #expect(declared == nil || declared == 413, "declared 10 MB: \(String(describing: declared))")
        // Chunked: no length up front, the limit is found while reading.
        let piece = Array("10000\r\n".utf8) + [UInt8](repeating: 0x61, count: 65536) + Array("\r\n".utf8)
        let chunked = Array([[UInt8]](repeating: piece, count: 160).joined()) + Array("0\r\n\r\n".utf8)
        let streamed = try await offPool {
            try Self.sendLarge(port: port, head: "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                               + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n", body: chunked)
        }
        #expect(streamed == nil || streamed == 413, "chunked 10 MB: \(String(describing: streamed))")
        let ok = try await server.post("/v1/completions", ["prompt": "after", "max_tokens": 2])
        #expect(ok.status == 200, "\(ok.text.prefix(200))")
    }

    @Test("a client that goes silent mid-header is closed after the idle timeout")
    func silentClientClosed() async throws {
        var options = TestServer.Options()
        options.idleTimeout = .seconds(2)
        let server = try await TestServer.start(options)
        defer { server.stop() }
        let port = server.port
        let started = Date()
        let closed = try await offPool { () -> Bool in
            let connection = try RawConnection(port: port, timeout: 30)
            try connection.send(Array("GET /health HTTP/1.1\r\nHost: x\r\n".utf8))
            return (try? connection.readAll()) != nil  // ends (empty or a 4xx) when the server closes
        }
        let waited = Date().timeIntervalSince(started)
        #expect(closed, "the server closed the silent connection")
        #expect(waited >= 1.5 && waited < 25, "closed after \(waited) s (idle timeout 2 s)")
    }
}
