import Foundation
import TridentCollectives
#if canImport(Glibc)
import Glibc
#endif

/// Makes a launched worker die with its launcher (torchrun's workers die with their agent),
/// cleaning up what the launcher no longer can.
///
/// `LocalLauncher` puts its process id in `TRIDENT_LAUNCHER_PID`. A worker that sees it asks
/// the kernel for SIGUSR2 when its parent dies (`PR_SET_PDEATHSIG`), closes the race of a
/// launcher that died before that call (parent id no longer the launcher's), and checks on the
/// launcher four times a second for the cases the signal misses (a worker started through a
/// shell, whose parent is not the launcher). When the launcher is gone the worker removes the
/// job's shared-memory segments and its error-report directory, then kills itself with SIGKILL.
/// Without the variable nothing happens.
public enum LauncherWatch {
    /// Environment variable carrying the launcher's process id.
    public static let variable = "TRIDENT_LAUNCHER_PID"
    private static let deathSignal = SIGUSR2

    /// Installs the watch when `environment` names a launcher; ends this process at once when
    /// that launcher is already gone. Call it early in a worker, once.
    public static func install(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let text = environment[variable], let launcher = pid_t(text), launcher > 1 else { return }
        let worker = try? WorkerEnvironment.from(environment)
        let die: @Sendable () -> Never = { cleanUpAndDie(worker) }
        let parent = getppid()
        if parent == launcher {
            signal(deathSignal, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: deathSignal, queue: .global())
            source.setEventHandler { die() }
            source.resume()
            retained = source
            setParentDeathSignal(deathSignal)
        }
        guard isAlive(launcher, parent: parent) else { die() }
        let thread = Thread {
            while true {
                usleep(250_000)
                if !isAlive(launcher, parent: parent) { die() }
            }
        }
        thread.name = "trident-launcher-watch"
        thread.start()
    }

    /// The signal source, kept for the life of the process.
    nonisolated(unsafe) private static var retained: DispatchSourceSignal?

    /// Whether the launcher still runs: for its direct child, the parent has not changed (a
    /// re-parented child has a new parent id); otherwise the process id still exists.
    static func isAlive(_ launcher: pid_t, parent: pid_t) -> Bool {
        if parent == launcher { return getppid() == launcher }
        guard kill(launcher, 0) == 0 || errno == EPERM else { return false }
        // A killed launcher not yet reaped by its own parent is a zombie: dead all the same.
        let stat = (try? String(contentsOfFile: "/proc/\(launcher)/stat", encoding: .utf8)) ?? ""
        guard let close = stat.lastIndex(of: ")") else { return true }
        return !stat[close...].hasPrefix(") Z")
    }

    private static func cleanUpAndDie(_ worker: WorkerEnvironment?) -> Never {
        if let worker {
            SharedMemoryJob.removeJobSegments(jobKey: SharedMemoryJob.jobKey(secret: worker.secret,
                                                                               masterPort: worker.masterPort))
            if let file = worker.errorFile {
                unlink(file)
                rmdir((file as NSString).deletingLastPathComponent)   // fails (harmlessly) while others remain
            }
        }
        kill(getpid(), SIGKILL)
        _exit(137)
    }

    /// `prctl(PR_SET_PDEATHSIG, signal)`. `prctl` is variadic in C (not imported into Swift),
    /// so it is called through its address with the fixed integer arguments the kernel reads.
    private static func setParentDeathSignal(_ signal: Int32) {
        typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
        guard let symbol = dlsym(nil, "prctl") else { return }   // nil: RTLD_DEFAULT
        let prctl = unsafeBitCast(symbol, to: Prctl.self)
        _ = prctl(1 /* PR_SET_PDEATHSIG */, UInt(signal), 0, 0, 0)
    }
}
