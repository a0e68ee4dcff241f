import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension LocalLauncher {
    /// Waits for every worker; on the first abnormal exit stops the rest (and, when the
    /// direct-output rank lost its reader, silences the remaining output at once).
    func superviseUntilDone(_ processes: [Process]) {
        var seen = 0
        var frozenSince: ContinuousClock.Instant?
        while true {
            events.lock()
            while exits.count == seen && !cancelled {
                if !events.wait(until: Date(timeIntervalSinceNow: 0.5)) { break }
            }
            let latest = Array(exits[seen...])
            seen = exits.count
            let stopNow = cancelled
            events.unlock()
            if stopNow {
                stop(processes, grace: configuration.terminationGrace)
                return
            }
            for exit in latest where exit.failed {
                if exit.signaled, exit.status == SIGPIPE, exit.rank == configuration.directOutputRank { gate.close() }
                stop(processes, grace: configuration.terminationGrace)
                return
            }
            if seen == processes.count { return }
            // Everyone else finished and the rest are stopped (SIGSTOP): they never will.
            let stopped = seen > 0 && processes.allSatisfy { !$0.isRunning || Self.isStopped($0.processIdentifier) }
            frozenSince = stopped ? (frozenSince ?? .now) : nil
            if let since = frozenSince, ContinuousClock.now - since > Self.frozenAfterOthersFinished {
                let frozen = processes.indices.filter { processes[$0].isRunning }.map { configuration.worldRank(localRank: $0) }
                events.lock()
                frozenRanks = frozen
                events.unlock()
                stop(processes, grace: configuration.terminationGrace)
                return
            }
        }
    }

    /// How long workers may stay stopped after all the others have exited successfully.
    static let frozenAfterOthersFinished = Duration.seconds(2)

    /// SIGTERM to every running worker, SIGKILL to those still running after `grace`; waits
    /// for all. A stopped (frozen) worker gets SIGKILL at once: woken, it would only add
    /// errors of its own about a job that is already over.
    func stop(_ processes: [Process], grace: Duration) {
        events.lock()
        stopping = true
        events.unlock()
        for process in processes where process.isRunning {
            kill(process.processIdentifier, Self.isStopped(process.processIdentifier) ? SIGKILL : SIGTERM)
        }
        let deadline = ContinuousClock.now + grace
        while processes.contains(where: \.isRunning) && ContinuousClock.now < deadline { usleep(20_000) }
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for process in processes { process.waitUntilExit() }
    }

    /// Whether process `pid` is stopped (state `T` in /proc/PID/stat, after the command name).
    static func isStopped(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[close...].hasPrefix(") T")
    }

    /// Unblocks the signals the launcher forwards or sends, in the calling thread, before it
    /// spawns workers: a blocked mask (inherited from whoever started us) would be inherited by
    /// the workers, and they could not be stopped with SIGTERM, nor the launcher be signalled.
    static func unblockTerminationSignals() {
        var set = sigset_t()
        sigemptyset(&set)
        for number in [SIGHUP, SIGINT, SIGTERM, SIGPIPE, SIGCHLD] { sigaddset(&set, number) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}

/// While workers run, SIGHUP/SIGINT/SIGTERM sent to the launcher are passed on to them (so
/// they are not orphaned); their exits then end `run()` with the usual error. `stop()`
/// restores the default handlers.
final class SignalForwarding: @unchecked Sendable {
    private let processes: [Process]
    private var sources: [DispatchSourceSignal] = []
    private let signals: [Int32]

    init(signals: [Int32], processes: [Process], observer: (@Sendable (Int32) -> Void)? = nil) {
        self.signals = signals
        self.processes = processes
        sources = signals.map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [processes] in
                observer?(number)
                for process in processes where process.isRunning {
                    kill(process.processIdentifier, number)
                }
            }
            source.resume()
            return source
        }
    }

    func stop() {
        for source in sources { source.cancel() }
        for number in signals { signal(number, SIG_DFL) }
    }
}
