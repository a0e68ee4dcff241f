import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starts the worker processes of one node and supervises them (like torchrun).
///
/// Each worker gets RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR / MASTER_PORT /
/// TRIDENT_SECRET; its stdout and stderr are forwarded line by line with a `[rank N] `
/// prefix. If any worker exits abnormally, the others get SIGTERM, then SIGKILL after
/// `terminationGrace`, and `run()` throws a `LaunchError` naming the first failed rank.
public final class LocalLauncher: @unchecked Sendable {
    public let configuration: LaunchConfiguration
    private let events = NSCondition()
    private var exits: [(local: Int, reason: Process.TerminationReason, status: Int32)] = []

    public init(_ configuration: LaunchConfiguration) {
        self.configuration = configuration
    }

    /// Spawns the workers, forwards their output and waits for all of them.
    public func run() throws(LaunchError) {
        let c = configuration
        try validate(c)
        let port = c.masterPort != 0 ? c.masterPort : try Self.freePort(host: c.masterAddress)
        let secret = try resolveSecret(c)
        var processes: [Process] = []
        var forwarders: [OutputForwarder] = []
        for local in 0..<c.processCount {
            let worker = WorkerEnvironment(rank: c.worldRank(localRank: local), worldSize: c.worldSize, localRank: local,
                                           masterAddress: c.masterAddress, masterPort: port, secret: secret)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: c.executable)
            process.arguments = c.arguments
            process.environment = ProcessInfo.processInfo.environment.merging(c.environment) { $1 }
                .merging(worker.variables) { $1 }
            let direct = worker.rank == c.directOutputRank
            let out = Pipe(), err = Pipe()
            process.standardOutput = direct ? FileHandle.standardOutput : out
            process.standardError = err
            let prefix = c.prefixOutput ? "[rank \(worker.rank)] " : ""
            process.terminationHandler = { [self] p in
                events.lock()
                exits.append((local, p.terminationReason, p.terminationStatus))
                events.broadcast()
                events.unlock()
            }
            do { try process.run() } catch {
                stop(processes, grace: c.terminationGrace)
                throw .spawnFailed(rank: worker.rank, detail: "\(c.executable): \(error)")
            }
            if !direct { forwarders.append(OutputForwarder(pipe: out, prefix: prefix, destination: .standardOutput)) }
            forwarders.append(OutputForwarder(pipe: err, prefix: prefix, destination: .standardError))
            processes.append(process)
        }
        let forwarding = forwardTerminationSignals(to: processes)
        let failure = superviseUntilDone(processes)
        forwarding.stop()
        for forwarder in forwarders { forwarder.wait(timeout: failure == nil ? nil : .seconds(2)) }
        if let failure { throw failure }
    }

    /// Waits for every worker; on the first abnormal exit stops the rest and returns the error.
    private func superviseUntilDone(_ processes: [Process]) -> LaunchError? {
        var seen = 0
        while true {
            events.lock()
            while exits.count == seen { events.wait() }
            let latest = Array(exits[seen...])
            seen = exits.count
            events.unlock()
            for exit in latest {
                let rank = configuration.worldRank(localRank: exit.local)
                let error: LaunchError? = exit.reason == .uncaughtSignal
                    ? .workerSignaled(rank: rank, signal: exit.status)
                    : (exit.status != 0 ? .workerExited(rank: rank, status: exit.status) : nil)
                if let error {
                    stop(processes, grace: configuration.terminationGrace)
                    return error
                }
            }
            if seen == processes.count { return nil }
        }
    }

    /// While workers run, SIGINT/SIGTERM sent to the launcher are passed on to them (so they
    /// are not orphaned); their exits then end `run()` with the usual error.
    private func forwardTerminationSignals(to processes: [Process]) -> SignalForwarding {
        let sources = [SIGINT, SIGTERM].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                for process in processes where process.isRunning { kill(process.processIdentifier, number) }
            }
            source.resume()
            return source
        }
        return SignalForwarding(sources: sources, signals: [SIGINT, SIGTERM])
    }

    /// SIGTERM to every running worker, SIGKILL to those still running after `grace`.
    private func stop(_ processes: [Process], grace: Duration) {
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = ContinuousClock.now + grace
        while processes.contains(where: \.isRunning) && ContinuousClock.now < deadline { usleep(20_000) }
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for process in processes { process.waitUntilExit() }
    }

    private func validate(_ c: LaunchConfiguration) throws(LaunchError) {
        guard c.processCount >= 1 else { throw .invalidConfiguration("process count must be >= 1, got \(c.processCount)") }
        guard c.nodeCount >= 1, (0..<c.nodeCount).contains(c.nodeRank) else {
            throw .invalidConfiguration("node rank \(c.nodeRank) outside \(c.nodeCount) nodes")
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

/// Installed signal forwarding; `stop()` restores the default handlers.
private struct SignalForwarding {
    var sources: [DispatchSourceSignal]
    var signals: [Int32]
    func stop() {
        for source in sources { source.cancel() }
        for number in signals { signal(number, SIG_DFL) }
    }
}
