import Foundation

/// Runs the HTTP server's tasks on threads of its own (its child tasks inherit the preference),
/// so code elsewhere in the process that blocks Swift's few cooperative threads (long
/// synchronous work, as in a test run) cannot starve the server.
final class ServerExecutor: TaskExecutor, @unchecked Sendable {
    /// One set of threads for every server of the process (they idle when no server runs).
    static let shared = ServerExecutor(threads: 4)

    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    private init(threads: Int) {
        for index in 0..<threads {
            let thread = Thread { [self] in work() }
            thread.name = "trident-http-\(index)"
            thread.start()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.withLock {
            jobs.append(job)
            condition.signal()
        }
    }

    private func work() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
