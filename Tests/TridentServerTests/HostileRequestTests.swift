import Foundation
import Testing

/// A corpus of malformed and hostile requests: every one gets a 4xx with an OpenAI error
/// object (never a 5xx, a crash or a hang), and the server still answers afterwards.
@Suite("malformed and hostile requests get 4xx", .serialized)
struct HostileRequestTests {
    /// (name, raw body bytes, path, expected status).
    static var corpus: [(String, [UInt8], String, Int)] {
        let c = "/v1/completions", chat = "/v1/chat/completions"
        func j(_ s: String) -> [UInt8] { Array(s.utf8) }
        return [
            ("malformed JSON", j("{\"prompt\": \"hi\""), c, 400),
            ("trailing garbage", j("{\"prompt\": \"hi\"} x"), c, 400),
            ("empty body", [], c, 400),
            ("array body", j("[1, 2, 3]"), c, 400),
            ("string body", j("\"prompt\""), c, 400),
            ("number body", j("42"), c, 400),
            ("null body", j("null"), c, 400),
            ("invalid UTF-8", [0x7B, 0x22, 0x70, 0x72, 0x6F, 0x6D, 0x70, 0x74, 0x22, 0x3A, 0x22, 0xFF, 0xFE, 0x22, 0x7D], c, 400),
            ("lone surrogate escape", j("{\"prompt\": \"\\ud800\", \"max_tokens\": 2}"), c, 400),
            ("missing prompt", j("{\"max_tokens\": 4}"), c, 400),
            ("null prompt", j("{\"prompt\": null}"), c, 400),
            ("empty prompt", j("{\"prompt\": \"\"}"), c, 400),
            ("empty prompt list", j("{\"prompt\": []}"), c, 400),
            ("prompt is a number", j("{\"prompt\": 5}"), c, 400),
            ("prompt is an object", j("{\"prompt\": {\"a\": 1}}"), c, 400),
            ("negative token id", j("{\"prompt\": [1, -2, 3]}"), c, 400),
            ("token id outside the vocabulary", j("{\"prompt\": [1, 99999999]}"), c, 400),
            ("mixed prompt list", j("{\"prompt\": [\"a\", 3]}"), c, 400),
            ("max_tokens 0", j("{\"prompt\": \"hi\", \"max_tokens\": 0}"), c, 400),
            ("negative max_tokens", j("{\"prompt\": \"hi\", \"max_tokens\": -5}"), c, 400),
            ("max_tokens as string", j("{\"prompt\": \"hi\", \"max_tokens\": \"10\"}"), c, 400),
            ("max_tokens fractional", j("{\"prompt\": \"hi\", \"max_tokens\": 2.5}"), c, 400),
            ("huge max_tokens", j("{\"prompt\": \"hi\", \"max_tokens\": 100000000000000000000000}"), c, 400),
            ("max_tokens beyond the context", j("{\"prompt\": \"hi\", \"max_tokens\": 100000}"), c, 400),
            ("prompt longer than the context", j("{\"prompt\": \"\(String(repeating: "word ", count: 400))\"}"), c, 400),
            ("negative temperature", j("{\"prompt\": \"hi\", \"temperature\": -0.5}"), c, 400),
            ("temperature as bool", j("{\"prompt\": \"hi\", \"temperature\": true}"), c, 400),
            ("huge temperature exponent", j("{\"prompt\": \"hi\", \"temperature\": 1e999}"), c, 400),
            ("top_p 0", j("{\"prompt\": \"hi\", \"top_p\": 0}"), c, 400),
            ("top_p above 1", j("{\"prompt\": \"hi\", \"top_p\": 1.5}"), c, 400),
            ("n 0", j("{\"prompt\": \"hi\", \"n\": 0}"), c, 400),
            ("n huge", j("{\"prompt\": \"hi\", \"n\": 100000}"), c, 400),
            ("min_p 2", j("{\"prompt\": \"hi\", \"min_p\": 2}"), c, 400),
            ("presence_penalty 5", j("{\"prompt\": \"hi\", \"presence_penalty\": 5}"), c, 400),
            ("stop as number", j("{\"prompt\": \"hi\", \"stop\": 3}"), c, 400),
            ("stop list with null", j("{\"prompt\": \"hi\", \"stop\": [\"a\", null]}"), c, 400),
            ("logprobs 1000", j("{\"prompt\": \"hi\", \"logprobs\": 1000}"), c, 400),
            ("stream as string", j("{\"prompt\": \"hi\", \"stream\": \"yes\"}"), c, 400),
            ("stream_options not an object", j("{\"prompt\": \"hi\", \"stream\": true, \"stream_options\": 1}"), c, 400),
            ("seed as string", j("{\"prompt\": \"hi\", \"seed\": \"7\"}"), c, 400),
            ("deeply nested JSON", j(String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)), c, 400),
            ("unknown model", j("{\"model\": \"gpt-9\", \"prompt\": \"hi\"}"), c, 404),
            ("model as number", j("{\"model\": 3, \"prompt\": \"hi\"}"), c, 400),
            ("chat: missing messages", j("{\"model\": \"tiny\"}"), chat, 400),
            ("chat: messages not a list", j("{\"messages\": \"hello\"}"), chat, 400),
            ("chat: empty messages", j("{\"messages\": []}"), chat, 400),
            ("chat: unknown role", j("{\"messages\": [{\"role\": \"wizard\", \"content\": \"hi\"}]}"), chat, 400),
            ("chat: missing role", j("{\"messages\": [{\"content\": \"hi\"}]}"), chat, 400),
            ("chat: content a number", j("{\"messages\": [{\"role\": \"user\", \"content\": 5}]}"), chat, 400),
            ("chat: message not an object", j("{\"messages\": [\"hi\"]}"), chat, 400),
            ("chat: bad content part", j("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image\"}]}]}"), chat, 400),
            ("chat: top_logprobs without logprobs", j("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"top_logprobs\": 2}"), chat, 400),
            ("chat: logprobs as integer", j("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"logprobs\": 3}"), chat, 400),
            ("chat: no template in the model", j("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"), chat, 400),
            ("unknown route", j("{}"), "/v1/embeddings", 404),
        ]
    }

    @Test("at least 40 malformed bodies: each a 4xx with an error object, as expected")
    func corpusGets4xx() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        #expect(Self.corpus.count >= 40)
        for (name, body, path, expected) in Self.corpus {
            let port = server.port
            let reply = try await offPool { try RawHTTP.request(port: port, path: path, body: body, timeout: 30) }
            #expect(reply.status == expected, "\(name): \(reply.status) \(reply.text.prefix(200))")
            if reply.status == 400 {
                let error = reply.error
                #expect(error?["message"] is String && error?["type"] as? String == "invalid_request_error", "\(name)")
                #expect(error?.keys.contains("param") == true && error?.keys.contains("code") == true, "\(name)")
            }
        }
        #expect(try await server.get("/health").status == 200, "the server still answers")
        let ok = try await server.post("/v1/completions", ["prompt": "still alive", "max_tokens": 3])
        #expect(ok.status == 200)
    }

    @Test("an error answer to a kept-alive request says Connection: close, as the server then closes it")
    func errorAnswerClosesConnection() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let port = server.port
        let bodies: [(String, String, Int)] = [
            ("/v1/completions", "{\"prompt\": \"hi\", \"max_tokens\": 0}", 400),
            ("/v1/completions", "{\"prompt\": \"hi\", \"top_p\": 2}", 400),
            ("/v1/chat/completions", "{\"messages\": [{\"role\": \"wizard\", \"content\": \"hi\"}]}", 400),
            ("/v1/completions", "{\"model\": \"gpt-9\", \"prompt\": \"hi\"}", 404),
            ("/v1/completions", "{\"prompt\": \"hi\", \"max_tokens\": 2}", 200),
        ]
        for (path, body, expected) in bodies {
            // No `Connection: close` from the client: only the server's header tells it not to reuse.
            let head = "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
            let reply = try await offPool { try RawHTTP.exchange(port: port, raw: Array((head + body).utf8), timeout: 30) }
            #expect(reply.status == expected, "\(body): \(reply.status) \(reply.text.prefix(200))")
            #expect(reply.headers["connection"]?.lowercased() == "close", "\(body): headers \(reply.headers)")
        }
    }

    @Test("connection-level abuse: a body over the limit gets 413, a lying Content-Length and a slow client do not hang the server")
    func connectionAbuse() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let big = [UInt8](repeating: UInt8(ascii: "a"), count: 2 << 20)
        let port = server.port
        let tooLarge = try await offPool { try RawHTTP.request(port: port, path: "/v1/completions", body: big, timeout: 30) }
        #expect(tooLarge.status == 413)
        // Content-Length says more than is sent, then the client goes quiet: the server must not
        // block others while it waits.
        let held = try await offPool { () -> [RawConnection] in
        let liar = try RawConnection(port: port, timeout: 5)
        try liar.send(Array("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"prompt\"".utf8))
        let slow = try RawConnection(port: port, timeout: 5)
        try slow.send(Array("GET /health HTTP/1.1\r\nHost: x\r\n".utf8))  // headers never finished
        var open: [RawConnection] = []
        for _ in 0..<200 { open.append(try RawConnection(port: port, timeout: 5)) }
        return [liar, slow] + open
        }
        #expect(try await server.get("/health").status == 200)
        #expect(try await server.post("/v1/completions", ["prompt": "hi", "max_tokens": 2]).status == 200)
        let header = Array("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "b", count: 200_000))\r\nConnection: close\r\n\r\n".utf8)
        if let reply = try? await offPool({ try RawHTTP.exchange(port: port, raw: header, timeout: 10) }) {
            #expect((400..<500).contains(reply.status), "a 200 kB header: \(reply.status)")
        }  // or the connection was closed
        withExtendedLifetime(held) {}
    }
}
