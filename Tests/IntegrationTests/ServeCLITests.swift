import Foundation
import Testing

/// `trident serve` as users run it: one rank, or ranks as processes over TCP; a bounded load on loopback
/// (64 requests at concurrency 16), greedy outputs equal to single-request runs, Prometheus
/// counters that add up, and SIGTERM ending the whole job cleanly.
@Suite("trident serve over TCP under load", .serialized, .enabled(if: CLIPaths.binary != nil))
struct ServeCLITests {
    static let prompts = (0..<16).map { "Request \($0): the \(["cat", "dog", "bird", "fish"][$0 % 4]) said" }

    /// A free loopback port (bound, read and released; the server binds it right after).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length); return getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// One completion's status, text and generated-token count.
    struct Outcome: Sendable {
        var status: Int
        var text: String?
        var completionTokens: Int
    }

    /// A greedy completion of prompt `i`.
    static func complete(_ port: Int, _ i: Int) throws -> Outcome {
        let (status, json) = try post(port, ["prompt": prompts[i], "max_tokens": 12 + i % 7, "temperature": 0])
        return Outcome(status: status, text: text(json),
                       completionTokens: (json["usage"] as? [String: Any])?["completion_tokens"] as? Int ?? 0)
    }

    static func post(_ port: Int, _ json: [String: Any]) throws -> (Int, [String: Any]) {
        let reply = try RawHTTP.post(port: port, path: "/v1/completions", json: json)
        return (reply.status, reply.json ?? [:])
    }

    static func get(_ port: Int, _ path: String) throws -> (Int, String) {
        let reply = try RawHTTP.request(port: port, method: "GET", path: path, timeout: 30)
        return (reply.status, reply.text)
    }

    static func text(_ json: [String: Any]) -> String? {
        ((json["choices"] as? [[String: Any]])?.first)?["text"] as? String
    }

    static func run(layout: [String]) throws {
        let port = freePort()
        let child = try Child(CLIPaths.binary!, ["serve", "--model", CLIPaths.tinyModel("6l-q8_0"), "--backend", "tcp",
                                                 "--port", String(port), "--context", "128", "--threads", "1"] + layout)
        var ready = false
        for _ in 0..<600 where !ready {
            ready = (try? get(port, "/health"))?.0 == 200
            if !ready { usleep(100_000) }
        }
        try #require(ready, "the server did not get ready: \(child.finish(timeout: 1).output)")
        var alone: [String] = []
        for i in prompts.indices { alone.append(try complete(port, i).text ?? "?") }
        // 64 requests from 16 client threads, 4 each.
        let box = OutcomeBox()
        let done = DispatchGroup()
        for client in 0..<16 {
            done.enter()
            Thread.detachNewThread {
                for k in 0..<4 {
                    let i = client * 4 + k
                    box.add(i, (try? complete(port, i % 16)) ?? Outcome(status: -1, text: nil, completionTokens: 0))
                }
                done.leave()
            }
        }
        done.wait()
        let outcomes = box.all
        #expect(outcomes.count == 64)
        var generated = 0
        for (i, outcome) in outcomes {
            #expect(outcome.status == 200)
            #expect(outcome.text == alone[i % 16], "request \(i) \(layout)")
            generated += outcome.completionTokens
        }
        let metrics = try get(port, "/metrics").1
        func sample(_ prefix: String) -> Double? {
            metrics.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.split(separator: " ").last!) }
        }
        #expect(sample("trident_requests_total{endpoint=\"/v1/completions\",status=\"200\"}") == 80)
        #expect(sample("trident_time_to_first_token_seconds_count") == 80)
        let aloneTokens = sample("trident_generation_tokens_total").map { $0 - Double(generated) }
        #expect(aloneTokens != nil && aloneTokens! > 0 && aloneTokens! <= Double(16 * 18))
        kill(child.process.processIdentifier, SIGTERM)
        let result = child.finish(timeout: 60)
        #expect(result.status == 0 && !result.signaled, "\(result.output)")
        #expect(result.output.contains("trident serve: stopped"))
    }

    @Test("one rank: 64 requests at concurrency 16 equal single-request runs; SIGTERM exits 0")
    func singleRank() throws { try Self.run(layout: []) }

    @Test("TP2 over TCP: 64 requests at concurrency 16 equal single-request runs; SIGTERM exits 0")
    func tensorParallel() throws { try Self.run(layout: ["--tp", "2"]) }

    @Test("PP2 over TCP: the same")
    func pipelineParallel() throws { try Self.run(layout: ["--pp", "2"]) }
}

/// Outcomes collected from the client threads.
final class OutcomeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var outcomes: [(Int, ServeCLITests.Outcome)] = []
    func add(_ i: Int, _ outcome: ServeCLITests.Outcome) { lock.withLock { outcomes.append((i, outcome)) } }
    var all: [(Int, ServeCLITests.Outcome)] { lock.withLock { outcomes } }
}
