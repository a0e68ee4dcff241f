import Foundation
import TridentCollectives
#if canImport(Glibc)
import Glibc
#endif

/// Starts the worker processes of one node and supervises them (like torchrun).
///
/// Each worker gets RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR / MASTER_PORT /
/// TRIDENT_SECRET, plus TRIDENT_LAUNCHER_PID (it dies with the launcher, see `LauncherWatch`)
/// and TRIDENT_ERROR_FILE (where it reports its first communication failure); its stdout and
/// stderr are forwarded line by line with a `[rank N] ` prefix. SIGHUP, SIGINT and SIGTERM
/// sent to the launcher are passed on. If any worker exits abnormally, the others get SIGTERM,
/// then SIGKILL after `terminationGrace`, and `run()` throws a `LaunchError` naming the rank
/// that caused the failure (`FailureDiagnosis`). However the job ends, the launcher removes
/// the job's shared-memory segments left on this host.
public final class LocalLauncher: @unchecked Sendable {
    public let configuration: LaunchConfiguration
    let events = NSCondition()
    var exits: [WorkerExit] = []
    var stopping = false
    var errorLines: [Int: String] = [:]
    /// Ranks found stopped (SIGSTOP) after every other rank had finished successfully.
    var frozenRanks: [Int] = []
    let gate = OutputGate()
    /// Set by `cancel()`: the supervisor stops the workers at its next look.
    var cancelled = false
    /// Called (on a dispatch queue) with a SIGHUP/SIGINT/SIGTERM the launcher received and
    /// passed on to its workers; the elastic agent then ends the job instead of restarting it.
    public var onSignal: (@Sendable (Int32) -> Void)?

    public init(_ configuration: LaunchConfiguration) {
        self.configuration = configuration
    }

    /// Spawns the workers, forwards their output and waits for all of them.
    public func run() throws(LaunchError) {
        let c = configuration
        try validate(c)
        let port = c.masterPort != 0 ? c.masterPort : try Self.freePort(host: c.masterAddress)
        let secret = try resolveSecret(c)
        let reports = FileManager.default.temporaryDirectory.appendingPathComponent("trident-job-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try? FileManager.default.createDirectory(at: reports, withIntermediateDirectories: true)
        defer {
            try? FileManager.default.removeItem(at: reports)
            SharedMemoryJob.removeJobSegments(jobKey: SharedMemoryJob.jobKey(secret: secret, masterPort: port))
        }
        var processes: [Process] = [], forwarders: [OutputForwarder] = []
        Self.unblockTerminationSignals()
        for local in 0..<c.processCount {
            var worker = WorkerEnvironment(rank: c.worldRank(localRank: local), worldSize: c.worldSize, localRank: local,
                                           masterAddress: c.masterAddress, masterPort: port, secret: secret)
            worker.rendezvousTimeout = c.rendezvousTimeout
            worker.errorFile = reports.appendingPathComponent("rank-\(worker.rank)").path
            do {
                let (process, output) = try spawn(worker)
                processes.append(process)
                forwarders += output
            } catch {
                stop(processes, grace: c.terminationGrace)
                throw .spawnFailed(rank: worker.rank, detail: "\(c.executable): \(error)")
            }
        }
        // Installed after spawning: a child would inherit the launcher's SIG_IGN.
        let forwarding = SignalForwarding(signals: [SIGHUP, SIGINT, SIGTERM], processes: processes, observer: onSignal)
        superviseUntilDone(processes)
        forwarding.stop()
        let failure = diagnose(reports: reports)
        for forwarder in forwarders { forwarder.wait(timeout: failure == nil ? nil : .seconds(2)) }
        if let failure { throw failure }
    }

    /// Stops the workers (SIGTERM, SIGKILL after the grace) as if one had failed; `run()` then
    /// returns or throws what it found. Callable from any thread, before or during `run()`.
    public func cancel() {
        events.lock()
        cancelled = true
        events.broadcast()
        events.unlock()
    }

    /// Starts one worker with its variables; its output is forwarded (stderr lines observed).
    private func spawn(_ worker: WorkerEnvironment) throws -> (Process, [OutputForwarder]) {
        let c = configuration
        let process = Process()
        process.executableURL = URL(fileURLWithPath: c.executable)
        process.arguments = c.arguments
        var variables = worker.variables
        variables[LauncherWatch.variable] = String(getpid())
        process.environment = ProcessInfo.processInfo.environment.merging(c.environment) { $1 }.merging(variables) { $1 }
        let direct = worker.rank == c.directOutputRank
        let out = Pipe(), err = Pipe()
        process.standardOutput = direct ? FileHandle.standardOutput : out
        process.standardError = err
        let prefix = c.prefixOutput ? "[rank \(worker.rank)] " : ""
        let rank = worker.rank
        process.terminationHandler = { [self] p in
            events.lock()
            exits.append(WorkerExit(rank: rank, signaled: p.terminationReason == .uncaughtSignal,
                                    status: p.terminationStatus, beforeStop: !stopping))
            events.broadcast()
            events.unlock()
        }
        try process.run()
        var forwarders: [OutputForwarder] = []
        if !direct { forwarders.append(OutputForwarder(pipe: out, prefix: prefix, destination: .standardOutput, gate: gate)) }
        forwarders.append(OutputForwarder(pipe: err, prefix: prefix, destination: .standardError, gate: gate) { [self] line in
            let text = String(decoding: line, as: UTF8.self)
            guard let start = text.range(of: FailureDiagnosis.errorPrefix) else { return }
            events.lock()
            errorLines[rank] = String(text[start.upperBound...])
            events.unlock()
        })
        return (process, forwarders)
    }

    /// The error to throw once every worker has ended (nil: all succeeded).
    private func diagnose(reports: URL) -> LaunchError? {
        events.lock()
        defer { events.unlock() }
        var found: [Int: FailureReport] = [:]
        for local in 0..<configuration.processCount {
            let rank = configuration.worldRank(localRank: local)
            found[rank] = FailureReport.read(from: reports.appendingPathComponent("rank-\(rank)").path)
        }
        if let rank = frozenRanks.first, !exits.contains(where: { $0.failed && $0.beforeStop }) {
            return .rankFailed(rank: rank, reason: "stopped (SIGSTOP) while the other ranks finished")
        }
        return FailureDiagnosis(exits: exits, reports: found, errorLines: errorLines,
                                directOutputRank: configuration.directOutputRank).error()
    }

    private func validate(_ c: LaunchConfiguration) throws(LaunchError) {
        guard c.processCount >= 1 else { throw .invalidConfiguration("process count must be >= 1, got \(c.processCount)") }
        guard c.nodeCount >= 1, (0..<c.nodeCount).contains(c.nodeRank) else {
            throw .invalidConfiguration("node rank \(c.nodeRank) outside \(c.nodeCount) nodes")
        }
        if let counts = c.nodeProcessCounts {
            guard counts.count == c.nodeCount, counts[c.nodeRank] == c.processCount, counts.allSatisfy({ $0 >= 1 }) else {
                throw .invalidConfiguration("per-node process counts \(counts) do not fit \(c.nodeCount) nodes with \(c.processCount) on node \(c.nodeRank)")
            }
        }
        guard (0...65_535).contains(c.masterPort) else { throw .invalidConfiguration("master port \(c.masterPort) is not a TCP port") }
        if c.nodeCount > 1 && c.masterPort == 0 {
            throw .invalidConfiguration("with \(c.nodeCount) nodes every node needs the same explicit --master-port")
        }
    }

    private func resolveSecret(_ c: LaunchConfiguration) throws(LaunchError) -> String {
        if let secret = c.secret { return secret }
        if let secret = ProcessInfo.processInfo.environment[WorkerEnvironment.Key.secret], !secret.isEmpty { return secret }
        guard c.nodeCount == 1 else {
            throw .invalidConfiguration("with several nodes set the same TRIDENT_SECRET on every node")
        }
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(generator.next() as UInt64, radix: 16) }.joined()
    }

    /// A port that is free right now on `host` (bind to port 0, read it, release it).
    static func freePort(host: String) throws(LaunchError) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .invalidConfiguration("cannot create a socket to pick a port") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else {
            throw .invalidConfiguration("master address '\(host)' must be an IPv4 address when --master-port is 0")
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0
            }
        }
        guard ok else { throw .invalidConfiguration("cannot bind \(host) to pick a free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
