import Foundation
import Logging
import TridentPlanner

/// Why a `trident plan --measure` / `--calibrate` child run failed.
enum PlanMeasurementError: Error, CustomStringConvertible {
    /// The child exited with a non-zero status.
    case childFailed(command: String, status: Int32, stderrTail: String)
    /// The child ran something other than what was asked.
    case unexpectedReport(command: String, expected: String, found: String)

    var description: String {
        switch self {
        case let .childFailed(command, status, tail):
            return "`\(command)` exited with status \(status): \(tail)"
        case let .unexpectedReport(command, expected, found):
            return "`\(command)` reported \(found), expected \(expected)"
        }
    }
}

/// Runs `trident` subcommands as child processes of this same binary.
struct TridentChild {
    /// This binary (`/proc/self/exe`, resolved so the launcher's children can re-exec it).
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path

    /// Runs `trident <arguments>` to completion and returns its standard output.
    /// - Throws: `PlanMeasurementError.childFailed` on a non-zero exit, with the end of stderr.
    func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Drain stderr concurrently so a chatty child cannot block on a full pipe.
        let errorData = ErrorCollector()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { errorData.set(errors.fileHandleForReading.readDataToEndOfFile()) }
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        let command = "trident " + arguments.joined(separator: " ")
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let tail = String(decoding: errorData.data.suffix(600), as: UTF8.self)
            throw PlanMeasurementError.childFailed(command: command, status: process.terminationStatus, stderrTail: tail)
        }
        return String(decoding: stdout, as: UTF8.self)
    }

    /// Holds the stderr bytes read on another thread.
    private final class ErrorCollector: @unchecked Sendable {
        private let lock = NSLock()
        private var bytes = Data()
        func set(_ data: Data) { lock.withLock { bytes = data } }
        var data: Data { lock.withLock { bytes } }
    }
}

/// Measures configurations of a GGUF model with `trident bench model` (one thread per rank,
/// TCP backend between ranks, the workload's batch as concurrent sequences), in the planner's terms.
struct BenchModelRunner: MeasurementRunner {
    let modelPath: String
    let promptTokens: Int
    let decodeTokens: Int
    let repetitions: Int
    /// Most ranks this machine can run at one core each.
    let cores: Int
    let child = TridentChild()

    func unmeasurableReason(for configuration: ParallelConfiguration) -> String? {
        let ranks = configuration.tensor * configuration.pipeline * configuration.data
        if ranks > cores {
            return "not measured (\(configuration.tensor)x\(configuration.pipeline)x\(configuration.data) needs "
                + "\(ranks) cores, this machine has \(cores))"
        }
        return nil
    }

    func measure(_ configuration: ParallelConfiguration, workload: Workload) throws -> MeasuredRun {
        let batch = if case .inference(let w) = workload { w.batchSize } else { 1 }
        return try benchmark(tensor: configuration.tensor, pipeline: configuration.pipeline, data: configuration.data,
                             prompts: batch).measuredRun
    }

    /// Runs `bench model --tp T --pp P --dp D --prompts N --threads 1 --json` and returns its report.
    func benchmark(tensor: Int, pipeline: Int = 1, data: Int = 1, prompts: Int = 1) throws -> ModelBenchReport {
        let grid = "TP=\(tensor)" + (pipeline > 1 ? " PP=\(pipeline)" : "") + (data > 1 ? " DP=\(data)" : "")
        Logger(label: "trident.plan").notice("measuring \(grid) with bench model")
        let ranks = tensor * pipeline * data
        let arguments = ["bench", "model", "--model", modelPath, "--tp", "\(tensor)", "--pp", "\(pipeline)",
                         "--dp", "\(data)", "--prompts", "\(prompts)",
                         "--backend", ranks > 1 ? "tcp" : "local", "--threads", "1", "--json",
                         "--prompt-tokens", "\(promptTokens)", "--decode-tokens", "\(decodeTokens)",
                         "--repetitions", "\(repetitions)"]
        let report = try ModelBenchReport.parse(try child.run(arguments))
        guard report.tp == tensor, report.pp == pipeline, report.dp == data, report.prompts == prompts else {
            throw PlanMeasurementError.unexpectedReport(
                command: "trident " + arguments.joined(separator: " "),
                expected: "tp \(tensor) pp \(pipeline) dp \(data) prompts \(prompts)",
                found: "tp \(report.tp) pp \(report.pp) dp \(report.dp) prompts \(report.prompts)")
        }
        return report
    }

    /// Runs `bench allreduce --backend tcp --nproc 2 --sizes ... --json` and returns its report.
    func allReduce(sizes: [Int]) throws -> AllReduceBenchReport {
        Logger(label: "trident.plan").notice("measuring all-reduce latency with bench allreduce")
        let arguments = ["bench", "allreduce", "--backend", "tcp", "--nproc", "2",
                         "--sizes", sizes.map(String.init).joined(separator: ","), "--json"]
        return try AllReduceBenchReport.parse(try child.run(arguments))
    }
}

/// Facts about this host for the cpu-local device description.
enum HostFacts {
    /// Cores this process may use.
    static var cores: Int { ProcessInfo.processInfo.activeProcessorCount }
    /// Physical memory divided among the cores (one device per core).
    static var memoryPerCore: Double { Double(ProcessInfo.processInfo.physicalMemory) / Double(max(cores, 1)) }
    /// Resident memory of this process now (VmRSS), bytes: the runtime's baseline that every
    /// trident process pays before loading a model.
    static var residentBytes: Double? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) else { return nil }
        return kilobytes * 1024
    }

    /// The 1-minute load average, when /proc/loadavg is readable.
    static var loadAverage: Double? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
        return text.split(separator: " ").first.flatMap { Double($0) }
    }
}
