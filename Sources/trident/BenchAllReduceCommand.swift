import ArgumentParser
import Foundation
import Logging
import TridentCollectives
import TridentLauncher

/// `trident bench allreduce`: Float32 sum all-reduce timings (nccl-tests conventions).
///
/// Without RANK / OMPI_COMM_WORLD_RANK in the environment the command starts the ranks itself:
/// threads for `local`, `--nproc` copies of this binary via `LocalLauncher` for `tcp`, and
/// `mpirun -np N <this binary> ...` for `mpi`. Each worker checks every result; rank 0 prints.
struct BenchAllReduceCommand: ParsableCommand, RunsRanks {
    static let configuration = CommandConfiguration(
        commandName: "allreduce",
        abstract: "Time all-reduce per buffer size: median time, algbw, busbw (busbw = algbw * 2(n-1)/n).")

    enum Backend: String, ExpressibleByArgument, CaseIterable { case local, tcp, mpi }

    @Option(help: "Backend: local (threads), tcp (processes), mpi (Open MPI, needs --traits MPI).")
    var backend: Backend = .local

    @Option(parsing: .unconditional, help: "Number of ranks.")
    var nproc: Int = 2

    @Option(parsing: .unconditional, help: "Comma-separated buffer sizes in bytes.")
    var sizes: String = "4,4096,4194304"

    @Option(parsing: .unconditional, help: "Timed iterations per size (after 3 warm-up iterations).")
    var iterations: Int = 50

    @OptionGroup var logging: LoggingOptions

    @Flag(help: "Print one JSON object from rank 0 instead of a table.")
    var json = false

    @Flag(help: "Instead of timing, check every collective (all types, split, send/receive) across the ranks.")
    var selfTest = false

    func validate() throws {
        try OptionCheck.integer(nproc, in: 1...256, "--nproc")
        try OptionCheck.integer(iterations, in: 1...1_000_000, "--iterations")
        let items = sizes.split(separator: ",", omittingEmptySubsequences: false)
        guard !parsedSizes.isEmpty, parsedSizes.count == items.count, parsedSizes.allSatisfy({ $0 > 0 && $0 <= 1 << 30 }) else {
            throw ValidationError("--sizes must be byte counts in 1...2^30 separated by commas, got '\(sizes)'")
        }
    }

    var parsedSizes: [Int] { sizes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func run() throws {
        switch backend {
        case .local:
            let results = try LocalCommunicator.run(size: nproc) { try work(on: $0) }
            for (rank, failures) in results.map(\.failures).enumerated() where !failures.isEmpty {
                print("rank \(rank): " + failures.joined(separator: "\n"))
            }
            try report(results[0], ranks: nproc, isPrinter: true)
        case .tcp:
            if let worker = try WorkerEnvironment.current() {
                let comm = try TCPCommunicator.connect(worker)
                try report(try work(on: comm), ranks: comm.size, isPrinter: comm.rank == 0)
            } else {
                try LocalLauncher(LaunchConfiguration(executable: Self.executablePath,
                                                      arguments: Array(CommandLine.arguments.dropFirst()),
                                                      processCount: nproc, prefixOutput: false)).run()
            }
        case .mpi:
            if ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_RANK"] != nil {
                let comm = try MPISupport.world()
                defer { MPISupport.finalize() }
                try report(try work(on: comm), ranks: comm.size, isPrinter: comm.rank == 0)
            } else {
                guard MPISupport.isAvailable else {
                    throw ValidationError("this trident was built without MPI; rebuild with `swift build --traits MPI`")
                }
                try runUnderMPI()
            }
        }
    }

    /// What one rank does: the self-test (failures printed by the failing rank) or the timings.
    private func work(on comm: any Communicator) throws -> (results: [AllReduceBenchmarkResult], failures: [String]) {
        guard selfTest else {
            return (try CollectiveBenchmark.allReduce(on: comm, sizes: parsedSizes, iterations: iterations), [])
        }
        let failures = try CollectiveSelfTest.run(on: comm)
        if backend != .local {
            var logger = Logger(label: "trident.bench")
            logger[metadataKey: "rank"] = "\(comm.rank)"
            for failure in failures { logger.error("self-test failure: \(failure)") }
        }
        var failed: [Int32] = [failures.isEmpty ? 0 : 1]
        try comm.allReduce(&failed, op: .max)
        return ([], failed[0] == 0 ? [] : failures.isEmpty ? ["another rank failed"] : failures)
    }

    /// Re-executes this command under `mpirun -np nproc` and propagates its exit status.
    private func runUnderMPI() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", String(nproc),
                             Self.executablePath] + CommandLine.arguments.dropFirst()
        try process.run()
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw ExitCode(process.terminationStatus == 0 ? 1 : process.terminationStatus)
        }
    }

    /// The real path of this binary (mpirun's daemons cannot use `/proc/self/exe`).
    static var executablePath: String {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
    }

    /// Prints the results on the printing rank; any incorrect result makes every rank exit 1.
    private func report(_ outcome: (results: [AllReduceBenchmarkResult], failures: [String]),
                        ranks: Int, isPrinter: Bool) throws {
        if selfTest {
            if isPrinter { print("self-test over \(ranks) ranks (\(backend.rawValue)): " + (outcome.failures.isEmpty ? "passed" : "FAILED")) }
            if !outcome.failures.isEmpty { throw ExitCode(1) }
            return
        }
        let results = outcome.results
        if isPrinter {
            if json {
                print("{\"results\":[" + results.map(\.json).joined(separator: ",") + "]}")
            } else {
                print("all-reduce float32 sum, backend \(backend.rawValue), \(ranks) ranks, \(iterations) iterations")
                print(pad("bytes", 12) + pad("time (us)", 14) + pad("algbw GB/s", 13) + pad("busbw GB/s", 13)
                      + pad("algorithm", 30) + "correct")
                for r in results {
                    print(pad("\(r.bytes)", 12) + pad(format(r.seconds * 1e6), 14) + pad(format(r.algorithmBandwidth), 13)
                          + pad(format(r.busBandwidth), 13) + pad(r.algorithm, 30) + (r.correct ? "yes" : "NO"))
                }
            }
        }
        if results.contains(where: { !$0.correct }) {
            if isPrinter { FileHandle.standardError.write(Data("bench allreduce: WRONG RESULT\n".utf8)) }
            throw ExitCode(1)
        }
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    private func format(_ value: Double) -> String { String(format: "%.3f", value) }
}
