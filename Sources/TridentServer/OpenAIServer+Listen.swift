import Foundation
import Hummingbird

/// A listening server: its port and the task that runs it.
public final class ListeningServer: @unchecked Sendable {
    public let port: Int
    private let task: Task<Void, any Error>

    init(port: Int, task: Task<Void, any Error>) {
        self.port = port
        self.task = task
    }

    /// Stops listening and closes the connections.
    public func stop() { task.cancel() }

    /// Waits until the server task ends.
    public func wait() async { _ = await task.result }
}

/// Why the server did not start listening.
public struct ListenError: Error, CustomStringConvertible {
    public let description: String
}

extension OpenAIServer {
    /// Starts the HTTP server in a task and waits (at most `timeout`) until it listens. Signals
    /// are left to the caller (the server installs no handler), so that SIGTERM can drain the
    /// engine first.
    /// - Throws: `ListenError` when the address cannot be bound or the server did not start in time.
    public func listen(timeout: Duration = .seconds(30)) throws -> ListeningServer {
        let ready = DispatchSemaphore(value: 0)
        let outcome = ListenOutcome()
        let app = application { port in
            outcome.set(.success(port))
            ready.signal()
        }
        let address = "\(configuration.host):\(configuration.port)"
        let task = Task(executorPreference: ServerExecutor.shared) {
            do {
                try await app.runService(gracefulShutdownSignals: [])
            } catch {
                outcome.set(.failure(ListenError(description: "cannot serve on \(address): \(error)")))
                ready.signal()
                throw error
            }
        }
        let seconds = Double(timeout.components.seconds)
        guard ready.wait(timeout: .now() + seconds) == .success, let result = outcome.get() else {
            task.cancel()
            throw ListenError(description: "the server did not start listening within \(seconds) s")
        }
        switch result {
        case .success(let port): return ListeningServer(port: port, task: task)
        case .failure(let error):
            task.cancel()
            throw error
        }
    }
}

/// The first outcome of starting to listen (set once, from another task).
private final class ListenOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<Int, ListenError>?

    func set(_ v: Result<Int, ListenError>) { lock.withLock { if value == nil { value = v } } }
    func get() -> Result<Int, ListenError>? { lock.withLock { value } }
}
