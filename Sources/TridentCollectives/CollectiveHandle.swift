import Foundation
import Synchronization

/// A collective running in the background; `wait()` blocks until it is done and rethrows its error.
///
/// The buffers passed to the async call must stay valid and untouched until `wait()` returns.
/// Not waiting on a handle leaks nothing, but its error is then never seen.
public final class CollectiveHandle: Sendable {
    private enum State: Sendable { case running, finished(CollectiveError?) }
    private let state = Mutex<State>(.running)
    private let done = NSCondition()

    /// Starts `work` on a new dedicated thread.
    public convenience init(_ work: @escaping @Sendable () throws -> Void) {
        self.init(pending: ())
        let thread = Thread { [self] in self.execute(work) }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// A handle that finishes when `execute` is called (used by `CollectiveQueue`).
    init(pending: Void) {}

    /// Runs `work` on the calling thread and marks the handle finished.
    func execute(_ work: () throws -> Void) {
        var failure: CollectiveError?
        do { try work() } catch let error as CollectiveError { failure = error } catch {
            failure = CollectiveError(.backend, operation: "async", rank: -1, group: "?", detail: "\(error)")
        }
        done.lock()
        state.withLock { $0 = .finished(failure) }
        done.broadcast()
        done.unlock()
    }

    /// True once the operation has finished (successfully or not).
    public var isFinished: Bool {
        state.withLock { if case .finished = $0 { true } else { false } }
    }

    /// Blocks until the operation finishes; rethrows its error.
    public func wait() throws {
        done.lock()
        defer { done.unlock() }
        while true {
            if case .finished(let failure) = state.withLock({ $0 }) {
                if let failure { throw failure }
                return
            }
            done.wait()
        }
    }
}

/// Runs collectives of one communicator in submission order on one background thread,
/// so several asynchronous operations can be outstanding at once without reordering.
public final class CollectiveQueue: Sendable {
    private let pending = Mutex<[(CollectiveHandle, @Sendable () throws -> Void)]>([])
    private let signal = NSCondition()
    private let stopped = Atomic<Bool>(false)

    /// Starts the worker thread; it lives until `shutdown()` is called.
    public init() {
        let thread = Thread { [self] in self.loop() }
        thread.start()
    }

    /// Stops the worker thread after the already submitted work.
    public func shutdown() {
        signal.lock()
        stopped.store(true, ordering: .sequentiallyConsistent)
        signal.broadcast()
        signal.unlock()
    }

    /// Queues `work` after everything submitted before; returns its handle.
    public func submit(_ work: @escaping @Sendable () throws -> Void) -> CollectiveHandle {
        let handle = CollectiveHandle(pending: ())
        signal.lock()
        pending.withLock { $0.append((handle, work)) }
        signal.signal()
        signal.unlock()
        return handle
    }

    private func loop() {
        while true {
            signal.lock()
            var next = pending.withLock { $0.isEmpty ? nil : $0.removeFirst() }
            while next == nil {
                if stopped.load(ordering: .sequentiallyConsistent) { signal.unlock(); return }
                signal.wait()
                next = pending.withLock { $0.isEmpty ? nil : $0.removeFirst() }
            }
            signal.unlock()
            if let (handle, work) = next { handle.execute(work) }
        }
    }
}
