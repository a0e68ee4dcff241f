import Foundation
import Testing

/// `scripts/serve-openai-check.py` (the official `openai` Python package as the client) against
/// the server in-process; skipped when no python3 on PATH (or $TRIDENT_PYTHON) imports `openai`.
@Suite("the openai Python client against trident serve", .serialized, .enabled(if: PythonClient.python != nil))
struct OpenAIClientTests {
    static var python: String? { PythonClient.python }
}

enum PythonClient {
    static let python: String? = {
        var candidates = ["python3"]
        if let configured = ProcessInfo.processInfo.environment["TRIDENT_PYTHON"] { candidates.insert(configured, at: 0) }
        return candidates.first { (try? run($0, ["-c", "import openai"]).status) == 0 }
    }()

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

extension OpenAIClientTests {

    static func check(_ options: TestServer.Options, chat: Bool) async throws {
        let server = try await TestServer.start(options)
        defer { server.stop() }
        let script = TestModels.repository.appendingPathComponent("scripts/serve-openai-check.py").path
        var arguments = [script, "--base-url", "http://127.0.0.1:\(server.port)/v1", "--model", options.name]
        if let key = options.apiKey { arguments += ["--api-key", key] }
        if chat { arguments.append("--chat") }
        let python = Self.python!
        let command = arguments
        let (status, output) = try await offPool { try PythonClient.run(python, command) }
        #expect(status == 0, "\(output)")
        #expect(output.contains(" passed, 0 failed"), "\(output)")
    }

    @Test("completions, streaming, logprobs, n, stop, echo and errors on the tiny fixture, with an API key")
    func tiny() async throws {
        var options = TestServer.Options()
        options.apiKey = "test-key"
        try await Self.check(options, chat: false)
    }

    @Test("chat too, on SmolLM2", .enabled(if: TestModels.hasSmolLM2))
    func smolLM2() async throws {
        var options = TestServer.Options()
        options.model = TestModels.smolLM2
        options.name = "smollm2"
        options.capacity = 512
        try await Self.check(options, chat: true)
    }
}
