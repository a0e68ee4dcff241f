import ArgumentParser
import Foundation
import Logging
import TridentEngine
import TridentFormats
import TridentLauncher
import TridentServer
import TridentTokenizer

struct ServeCommand: ParsableCommand, RunsRanks {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the OpenAI API (/v1/models, /v1/completions, /v1/chat/completions, /health, /metrics) with continuous batching, on any --tp/--pp/--dp layout.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var parallel: ParallelOptions
    @OptionGroup var kvCache: KVCacheOptions
    @OptionGroup var logging: LoggingOptions

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(parsing: .unconditional, help: "Port to listen on (0 picks a free one).")
    var port = 8000

    @Option(help: "Require 'Authorization: Bearer <key>' on /v1 (default: $TRIDENT_API_KEY; none when unset).")
    var apiKey: String?

    @Option(parsing: .unconditional, help: "Most sequences in flight per data-parallel replica.")
    var maxSequences = 16

    @Option(parsing: .unconditional, help: "Most requests waiting for a sequence slot; more get 429.")
    var maxQueue = 64

    @Option(help: "KV-cache budget per replica (e.g. 2GB, 512MiB; an f16 cache holds twice the positions): a request reserves its prompt plus max_tokens positions; requests that do not fit wait.")
    var kvCacheMemory = "2GB"

    @Option(help: "Model name for /v1/models and the requests' 'model' (default: the file name without .gguf).")
    var servedModelName: String?

    @Option(parsing: .unconditional, help: "Positions per sequence (clipped to the model's context length).")
    var context = ParallelSession.defaultCapacity

    @Flag(name: .customLong("no-prefix-caching"),
          help: "Run every prompt in full (default: a request skips the leading tokens its slot's previous request left in the KV cache).")
    var noPrefixCaching = false

    @Option(parsing: .unconditional, help: "Seconds SIGTERM waits for running requests before failing them.")
    var drainTimeout = 30

    func validate() throws {
        try OptionCheck.integer(port, in: 0...65535, "--port")
        try OptionCheck.integer(maxSequences, in: 1...4096, "--max-sequences")
        try OptionCheck.integer(maxQueue, in: 1...(1 << 20), "--max-queue")
        try OptionCheck.integer(context, in: 2...(1 << 20), "--context")
        try OptionCheck.integer(drainTimeout, in: 0...86_400, "--drain-timeout")
        _ = try ByteSize.parse(kvCacheMemory, option: "--kv-cache-memory")
        if let servedModelName, servedModelName.isEmpty { throw ValidationError("--served-model-name is empty") }
    }

    /// The key from `--api-key`, else `$TRIDENT_API_KEY`.
    var key: String? {
        apiKey ?? ProcessInfo.processInfo.environment["TRIDENT_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
    }

    var name: String {
        servedModelName ?? URL(fileURLWithPath: model.model).deletingPathExtension().lastPathComponent
    }

    func run() throws {
        var session = ParallelSession(model: model, parallel: parallel, capacity: context,
                                        kvType: kvCache.kvType)
        session.slotsPerReplica = maxSequences
        guard try drivesHere() else {
            // A worker rank leaves SIGTERM/SIGINT (forwarded by the launcher or mpirun) to rank 0,
            // which drains and then shuts the workers down; a launcher that stops a failed job
            // follows up with SIGKILL.
            if try isWorkerRank() {
                signal(SIGTERM, SIG_IGN)
                signal(SIGINT, SIG_IGN)
            }
            _ = try session.run { _ in }  // a launching parent or a worker rank: no HTTP here
            return
        }
        let logger = Logger(label: "trident.serve")
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: model.model))
        var configuration = ServerConfiguration(servedModelName: name)
        configuration.host = host
        configuration.port = port
        configuration.apiKey = key
        configuration.drainTimeout = .seconds(drainTimeout)
        let engine = EngineLoop(maxQueue: maxQueue, metrics: ServerMetrics(), logger: logger)
        let server = OpenAIServer(configuration: configuration, engine: engine, tokenizer: tokenizer, logger: logger)
        let listening = try server.listen()
        FileHandle.standardError.write(Data("trident serve: listening on http://\(host):\(listening.port) (model '\(name)' loading)\n".utf8))
        let drainTimeout = configuration.drainTimeout
        let signals = SignalDrain.install { engine.drain(timeout: drainTimeout) }
        defer { signals.cancel() }
        let bytes = try ByteSize.parse(kvCacheMemory, option: "--kv-cache-memory"), kvType = kvCache.kvType
        do {
            _ = try session.run { runner in
                let budget = KVBlockBudget(bytes: bytes, configuration: runner.configuration, type: kvType)
                let scheduler = Scheduler(runner: runner, tokenizer: tokenizer,
                                          budget: KVBlockBudget(blockSize: budget.blockSize,
                                                                totalBlocks: budget.totalBlocks * runner.placement.layout.data))
                scheduler.reusesPromptPrefixes = !noPrefixCaching
                FileHandle.standardError.write(Data("trident serve: ready (\(runner.placement))\n".utf8))
                try engine.run(scheduler, statistics: { try runner.rankStatistics() })
            }
        } catch {
            if case .loading = engine.currentState {  // never got ready: the model did not load
                listening.stop()
                throw error
            }
            // Keep answering: /health says 503 and requests fail cleanly until SIGTERM.
            engine.fail("\(error)")
            FileHandle.standardError.write(Data("trident serve: error: \(error); serving 503 until SIGTERM\n".utf8))
            signals.wait()
        }
        listening.stop()
        FileHandle.standardError.write(Data("trident serve: stopped\n".utf8))
    }

    /// Whether this process is a launched rank other than world rank 0.
    private func isWorkerRank() throws -> Bool {
        if let launched = try WorkerEnvironment.current() { return launched.rank != 0 }
        return ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_RANK"].map { $0 != "0" } ?? false
    }

    /// Whether this process holds world rank 0 (and so the HTTP server).
    private func drivesHere() throws -> Bool {
        if parallel.worldSize == 1 { return true }
        switch parallel.backend {
        case .local: return true
        case .tcp: return try WorkerEnvironment.current()?.rank == 0
        case .mpi: return ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_RANK"] == "0"
        }
    }
}

/// SIGTERM and SIGINT run `onSignal` (once) instead of killing the process.
final class SignalDrain: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]
    private let received = DispatchSemaphore(value: 0)

    private init(sources: [any DispatchSourceSignal]) { self.sources = sources }

    static func install(_ onSignal: @escaping @Sendable () -> Void) -> SignalDrain {
        let queue = DispatchQueue(label: "trident.signals")
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            sources.append(DispatchSource.makeSignalSource(signal: number, queue: queue))
        }
        let drain = SignalDrain(sources: sources)
        for source in sources {
            source.setEventHandler {
                onSignal()
                drain.received.signal()
            }
            source.resume()
        }
        return drain
    }

    /// Blocks until a signal arrives.
    func wait() { received.wait() }

    func cancel() { for source in sources { source.cancel() } }
}

/// Byte sizes as options spell them: `2GB`, `512MiB`, `1.5G`, `1048576`.
enum ByteSize {
    static func parse(_ text: String, option: String) throws -> Int {
        let units: [(String, Double)] = [("KIB", 1024), ("MIB", 1_048_576), ("GIB", 1_073_741_824), ("KB", 1e3), ("MB", 1e6),
                                         ("GB", 1e9), ("K", 1e3), ("M", 1e6), ("G", 1e9), ("B", 1)]
        let upper = text.uppercased().trimmingCharacters(in: .whitespaces)
        var number = upper, scale = 1.0
        for (suffix, value) in units where upper.hasSuffix(suffix) {
            number = String(upper.dropLast(suffix.count))
            scale = value
            break
        }
        guard let value = Double(number.trimmingCharacters(in: .whitespaces)), value.isFinite, value > 0,
              value * scale <= 1e15 else {
            throw ValidationError("\(option) must be a size such as 2GB or 512MiB, got '\(text)'")
        }
        return Int(value * scale)
    }
}
