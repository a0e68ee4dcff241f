import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Makes a launched worker die with its launcher (torchrun's workers die with their agent).
///
/// `LocalLauncher` puts its process id in `TRIDENT_LAUNCHER_PID`. A worker that sees it asks
/// the kernel for SIGKILL when its parent dies (`PR_SET_PDEATHSIG`), closes the race of a
/// launcher that died before that call (parent id no longer the launcher's), and watches the
/// launcher twice a second for the cases the signal misses (a worker started through a shell,
/// whose parent is not the launcher). Without the variable nothing happens.
public enum LauncherWatch {
    /// Environment variable carrying the launcher's process id.
    public static let variable = "TRIDENT_LAUNCHER_PID"

    /// Installs the watch when `environment` names a launcher; kills this process at once when
    /// that launcher is already gone. Call it early in a worker, once.
    public static func install(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let text = environment[variable], let launcher = pid_t(text), launcher > 1 else { return }
        let parent = getppid()
        if parent == launcher { setParentDeathSignal(SIGKILL) }
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

    private static func die() -> Never {
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
