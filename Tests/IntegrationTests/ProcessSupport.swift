import Foundation

/// The `trident` binary built next to this test bundle (nil when it was not built, e.g. with
/// a TRIDENT_DEV_TARGETS filter that leaves out the CLI).
let tridentBinary: String? = {
    let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var directory = URL(fileURLWithPath: me).deletingLastPathComponent()
    if directory.path.hasSuffix(".xctest") || directory.lastPathComponent == "MacOS" { directory.deleteLastPathComponent() }
    let candidate = directory.appendingPathComponent("trident").path
    return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
}()

/// Output and exit status of a finished child process.
struct ChildResult {
    var status: Int32
    var signaled: Bool
    var output: String
    var seconds: Double
}

/// A started child process whose stdout+stderr are collected.
final class Child: @unchecked Sendable {
    let process = Process()
    private let pipe = Pipe()
    private var collected = Data()
    private let reader = DispatchGroup()
    private let started = ContinuousClock.now

    /// - Parameter defaultSignals: start the child with SIGHUP, SIGINT and SIGTERM at their
    ///   default actions, for tests that send it one of them: while an in-process launcher of
    ///   another test forwards signals, this process ignores them, and a child would inherit that.
    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
         defaultSignals: Bool = false) throws {
        if defaultSignals, Self.envResetsSignals {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["--default-signal=HUP,INT,TERM", executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        reader.enter()
        let handle = pipe.fileHandleForReading
        Thread.detachNewThread { [self] in
            collected = handle.readDataToEndOfFile()
            reader.leave()
        }
    }

    /// Whether `/usr/bin/env` has `--default-signal` (GNU coreutils 8.31 and later).
    static let envResetsSignals: Bool = {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["--default-signal=INT", "true"]
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }()

    /// Waits for exit (killing the child after `timeout` seconds).
    func finish(timeout: Double = 60) -> ChildResult {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let elapsed = ContinuousClock.now - started
        reader.wait()
        return ChildResult(status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
                           output: String(decoding: collected, as: UTF8.self),
                           seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }
}

/// Runs a command to completion.
func runChild(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
              timeout: Double = 120) throws -> ChildResult {
    try Child(executable, arguments, environment: environment).finish(timeout: timeout)
}
