#if TRIDENT_MPI
import CMPI
import Foundation
import Synchronization

/// Turns an MPI call that never returns into a loud, bounded failure: MPI calls cannot be
/// interrupted, so when one operation exceeds `timeout` the watchdog prints the error (naming
/// the operation, rank and group) to stderr and calls `MPI_Abort`, which makes mpirun stop the job.
final class MPIWatchdog: Sendable {
    private struct Running: Sendable { var operation: String; var started: ContinuousClock.Instant }
    private let running = Mutex<Running?>(nil)
    private let stopped = Atomic<Bool>(false)

    init(timeout: Duration, rank: Int, group: String, communicator: MPI_Comm) {
        let comm = UnsafeTransfer(communicator)
        let period = min(Duration.seconds(1), timeout / 4)
        Thread.detachNewThread { [self] in
            let watchdog = self
            while !watchdog.stopped.load(ordering: .relaxed) {
                Thread.sleep(forTimeInterval: period.seconds)
                guard let current = watchdog.running.withLock({ $0 }) else { continue }
                let elapsed = ContinuousClock.now - current.started
                if elapsed > timeout {
                    let error = CollectiveError(.timeout, operation: current.operation, rank: rank, group: group,
                                                detail: "MPI call exceeded the operation timeout; aborting the MPI job",
                                                elapsed: elapsed)
                    FileHandle.standardError.write(Data("\(error)\n".utf8))
                    MPI_Abort(comm.value, 1)
                }
            }
        }
    }

    /// Stops the watchdog thread (within one period).
    func stop() { stopped.store(true, ordering: .relaxed) }

    /// Runs `body` as the watched operation.
    func watch<T>(_ operation: String, _ body: () throws -> T) rethrows -> T {
        running.withLock { $0 = Running(operation: operation, started: .now) }
        defer { running.withLock { $0 = nil } }
        return try body()
    }
}
#endif
