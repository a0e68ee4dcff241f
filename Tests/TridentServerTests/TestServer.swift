import Foundation
import Logging
import TridentCollectives
import TridentEngine
import TridentFormats
import TridentModel
import TridentServer
import TridentTokenizer

/// Models the tests serve.
enum TestModels {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// The 6-block tiny fixture (GPT-2 style byte-level vocabulary, no chat template).
    static let tiny = repository.appendingPathComponent("Tests/Fixtures/tiny-llama-6l-q8_0.gguf").path
    /// SmolLM2-135M-Instruct Q4_1 (git-ignored; CI fetches it).
    static let smolLM2 = repository.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path
    static var hasSmolLM2: Bool { FileManager.default.fileExists(atPath: smolLM2) }
}

/// An in-process `trident serve`: ranks are threads (world rank 0 drives the engine on its
/// thread), the HTTP server listens on an ephemeral loopback port.
final class TestServer: @unchecked Sendable {
    let port: Int
    let engine: EngineLoop
    let server: OpenAIServer
    private let listening: ListeningServer
    private let finished = DispatchSemaphore(value: 0)
    private(set) var engineError: (any Error)?

    struct Options: @unchecked Sendable {
        var model = TestModels.tiny
        var layout = try! ParallelLayout()
        var slots = 4
        var capacity = 128
        var maxQueue = 64
        var apiKey: String?
        var kvBytes: Int?
        var idleTimeout: Duration = .seconds(60)
        var name = "tiny"
        var communicatorOptions = CommunicatorOptions()
        /// Worker ranks serve this many forward steps, then stop answering (a dead rank).
        var workerStepLimit = Int.max
        /// Wraps the driver's runner (to slow or hold its steps).
        var wrap: (@Sendable (DistributedRunner) -> any ModelRunner)?
    }

    init(_ options: Options = Options()) throws {
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: options.model))
        var configuration = ServerConfiguration(servedModelName: options.name)
        configuration.port = 0
        configuration.apiKey = options.apiKey
        configuration.bodyLimit = 1 << 20
        configuration.idleTimeout = options.idleTimeout
        var logger = Logger(label: "test.serve")
        logger.logLevel = .warning
        engine = EngineLoop(maxQueue: options.maxQueue, metrics: ServerMetrics(), logger: logger)
        server = OpenAIServer(configuration: configuration, engine: engine, tokenizer: tokenizer, logger: logger)
        listening = try server.listen()
        port = listening.port
        let engine = self.engine
        let thread = Thread { [self] in
            do {
                _ = try LocalCommunicator.run(size: options.layout.worldSize, options: options.communicatorOptions) { comm in
                    let runtime = try RankRuntime.load(path: options.model, world: comm, layout: options.layout,
                                                       threads: 1, capacity: options.capacity,
                                                       slotsPerReplica: options.slots)
                    guard comm.rank == 0 else {
                        try WorkerLoop.run(runtime, forwardStepLimit: options.workerStepLimit)
                        return 0
                    }
                    try DistributedRunner.drive(runtime) { runner in
                        let budget = options.kvBytes.map { KVBlockBudget(bytes: $0, configuration: runner.configuration) }
                        let wrapped: any ModelRunner = options.wrap?(runner) ?? runner
                        try engine.run(Scheduler(runner: wrapped, tokenizer: tokenizer, budget: budget),
                                       statistics: { try wrapped.rankStatistics() })
                    }
                    return 0
                }
            } catch {
                engineError = error
                if case .loading = engine.currentState { engine.fail("\(error)") }
            }
            finished.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
        try waitUntilReady()
    }

    private func waitUntilReady() throws {
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            switch engine.currentState {
            case .ready: return
            case .failed(let why): throw HTTPClientError(description: "engine failed: \(why)")
            default: Thread.sleep(forTimeInterval: 0.02)
            }
        }
        throw HTTPClientError(description: "engine not ready within 120 s")
    }

    /// Drains the engine (running requests finish), waits for the rank threads and stops listening.
    func stop(drain: Duration = .seconds(30)) {
        engine.drain(timeout: drain)
        _ = finished.wait(timeout: .now() + 60)
        listening.stop()
    }

    /// Waits up to `seconds` for the engine thread to end. - Returns: whether it ended.
    func waitForEngine(seconds: Double) async throws -> Bool {
        let finished = self.finished
        return try await offPool {
            guard finished.wait(timeout: .now() + seconds) == .success else { return false }
            finished.signal()
            return true
        }
    }

    /// Starts a server (loading happens off the cooperative pool).
    static func start(_ options: Options = Options()) async throws -> TestServer {
        try await offPool { try TestServer(options) }
    }

    /// POSTs `json` from another thread (the socket calls block).
    func post(_ path: String, _ json: [String: Any], headers: [String: String] = [:]) async throws -> HTTPReply {
        let body = Array(try JSONSerialization.data(withJSONObject: json)), port = self.port
        return try await offPool { try RawHTTP.request(port: port, path: path, body: body, headers: headers) }
    }

    /// `post` for callers on their own thread.
    func postBlocking(_ path: String, _ json: [String: Any]) throws -> HTTPReply {
        try RawHTTP.post(port: port, path: path, json: json)
    }

    func get(_ path: String, headers: [String: String] = [:]) async throws -> HTTPReply {
        let port = self.port
        return try await offPool { try RawHTTP.request(port: port, method: "GET", path: path, headers: headers) }
    }

    /// The value of the Prometheus sample `name` (with its labels as written), or nil.
    func metric(_ sample: String) async throws -> Double? {
        for line in try await get("/metrics").text.split(separator: "\n") where line.hasPrefix(sample + " ") {
            return Double(line.split(separator: " ").last!)
        }
        return nil
    }
}

/// Runs blocking `body` on a thread of its own, off Swift's cooperative pool, which the
/// server's handlers need (a test that blocked the pool's few threads would starve them).
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
