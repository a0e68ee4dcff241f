import Foundation

/// One round's workers on this node: a `LocalLauncher` run on a background thread, which the
/// elastic agent polls (`outcome`) and stops (`stop`).
final class RoundWorkers: @unchecked Sendable {
    private let launcher: LocalLauncher
    private let lock = NSLock()
    private var result: Result<Void, LaunchError>?
    private let finished = DispatchGroup()

    /// Starts the workers of `configuration` at once. `onSignal` sees a termination signal the
    /// launcher received (and passed on to the workers).
    init(_ configuration: LaunchConfiguration, onSignal: @escaping @Sendable (Int32) -> Void) {
        launcher = LocalLauncher(configuration)
        launcher.onSignal = onSignal
        finished.enter()
        Thread.detachNewThread { [self] in
            let outcome: Result<Void, LaunchError>
            do throws(LaunchError) { try launcher.run(); outcome = .success(()) } catch { outcome = .failure(error) }
            lock.withLock { result = outcome }
            finished.leave()
        }
    }

    /// How the workers ended; nil while any runs.
    var outcome: Result<Void, LaunchError>? { lock.withLock { result } }

    /// Stops the workers (SIGTERM, SIGKILL after the grace) and waits until all have ended.
    func stop() {
        launcher.cancel()
        finished.wait()
    }

    /// What this node reports to the master about `outcome`; `localRanks` are its world ranks.
    static func status(_ outcome: Result<Void, LaunchError>, localRanks: Range<Int>) -> NodeStatus {
        guard case .failure(let error) = outcome else { return NodeStatus(state: .succeeded) }
        switch error {
        case .workerExited(let rank, let code):
            return NodeStatus(state: .failed, culpritRank: rank, ownFault: localRanks.contains(rank),
                              detail: "rank \(rank) exited with status \(code)")
        case .workerSignaled(let rank, let signal):
            return NodeStatus(state: .failed, culpritRank: rank, ownFault: localRanks.contains(rank),
                              detail: "rank \(rank) was killed by signal \(signal) (\(signalName(signal)))")
        case .rankFailed(let rank, let reason):
            return NodeStatus(state: .failed, culpritRank: rank, ownFault: localRanks.contains(rank),
                              detail: "rank \(rank) failed: \(reason)")
        case .spawnFailed(let rank, _), .outputClosed(let rank):
            return NodeStatus(state: .failed, culpritRank: rank, ownFault: true, detail: error.description)
        case .invalidConfiguration, .badEnvironment:
            return NodeStatus(state: .failed, ownFault: true, detail: error.description)
        }
    }
}
