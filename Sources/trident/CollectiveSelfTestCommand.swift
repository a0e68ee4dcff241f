import ArgumentParser
import Foundation
import TridentCollectives
import TridentLauncher
#if canImport(Glibc)
import Glibc
#endif

/// Hidden `trident collective-selftest`: every collective of the TCP backend on several
/// sizes, checked against the arithmetic result. Without RANK set it launches itself
/// `--nproc` times. Used by the integration tests and `scripts/netns-test.sh`.
struct CollectiveSelfTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collective-selftest", abstract: "Check the TCP collectives across processes.",
        shouldDisplay: false)

    @Option(help: "Worker processes to launch when not started as a worker.")
    var nproc: Int = 2

    @Option(parsing: .unconditional, help: "Float32 element counts to test.")
    var counts: String = "0,1,7,4097,300001"

    @Option(name: .customLong("kill-rank"), help: "This world rank kills itself (SIGKILL) during an allReduce.")
    var killRank: Int?

    @Option(name: .customLong("hang-rank"), help: "This world rank stops itself (SIGSTOP) during an allReduce.")
    var hangRank: Int?

    @Option(name: .customLong("liveness"), help: "Liveness timeout in seconds.")
    var liveness: Int = 10

    func validate() throws {
        try OptionCheck.integer(nproc, in: 1...256, "--nproc")
        try OptionCheck.integer(liveness, in: 1...3600, "--liveness")
        guard counts.split(separator: ",").allSatisfy({ Int($0).map { (0...(1 << 28)).contains($0) } ?? false }) else {
            throw ValidationError("--counts must be element counts in 0...2^28 separated by commas, got '\(counts)'")
        }
    }

    func run() throws {
        guard let environment = try WorkerEnvironment.current() else {
            var arguments = Array(CommandLine.arguments.dropFirst())
            arguments.removeAll { $0.hasPrefix("--nproc") }
            if let index = CommandLine.arguments.firstIndex(of: "--nproc"), index + 1 < CommandLine.arguments.count {
                arguments.removeAll { $0 == CommandLine.arguments[index + 1] }
            }
            let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "/proc/self/exe"
            try runLauncher(LaunchConfiguration(executable: exe, arguments: arguments, processCount: nproc))
            return
        }
        let options = CommunicatorOptions(livenessTimeout: .seconds(liveness))
        let comm = try TCPCommunicator.connect(environment, options: options)
        if killRank != nil || hangRank != nil { try faultRun(comm); return }
        let sizes = counts.split(separator: ",").compactMap { Int($0) }
        var problems: [String] = []
        for count in sizes { problems += try check(comm, count: count) }
        try comm.barrier()
        comm.close()
        if problems.isEmpty {
            print("selftest ok: rank \(comm.rank) of \(comm.size), counts \(sizes), allReduce via \(comm.lastAlgorithm)")
        } else {
            for problem in problems { print("selftest FAILED: \(problem)") }
            throw ExitCode(1)
        }
    }

    /// Every rank enters an allReduce; `killRank` dies (or `hangRank` freezes) inside it. The others must fail
    /// with a CollectiveError; they print it with the time it took and exit 3.
    private func faultRun(_ comm: TCPCommunicator) throws {
        try comm.barrier()
        if comm.rank == killRank || comm.rank == hangRank {
            usleep(300_000)
            kill(getpid(), comm.rank == killRank ? SIGKILL : SIGSTOP)
        }
        let started = ContinuousClock.now
        var values = [Float](repeating: 1, count: 1024)
        do {
            try values.withUnsafeMutableBytes { try comm.allReduce($0, type: .float32, op: .sum) }
            try values.withUnsafeMutableBytes { try comm.allReduce($0, type: .float32, op: .sum) }
            print("fault test: no error although a rank died")
            throw ExitCode(1)
        } catch let error as CollectiveError {
            let seconds = Double((ContinuousClock.now - started).components.seconds)
            print("fault detected in \(seconds < 1 ? "<1" : String(Int(seconds))) s: \(error)")
            let again = Result { try comm.barrier() }
            if case .failure(let later as CollectiveError) = again { print("afterwards: \(later.kind)") }
            // Stay connected a moment: a survivor that exits at once closes its sockets, and a
            // survivor still waiting on it would report that close instead of the dead rank.
            usleep(1_000_000)
            throw ExitCode(3)
        }
    }

    private func check(_ comm: TCPCommunicator, count: Int) throws -> [String] {
        var problems: [String] = []
        let n = comm.size, r = comm.rank
        // Integers-valued floats: sums are exact whatever the order.
        func term(_ i: Int, _ q: Int) -> Float { Float((i * 7 + q * 13) % 101) }
        var values = (0..<count).map { term($0, r) }
        try values.withUnsafeMutableBytes { try comm.allReduce($0, type: .float32, op: .sum) }
        var expectedSum = [Float](repeating: 0, count: count)
        for q in 0..<n { for i in 0..<count { expectedSum[i] += term(i, q) } }
        if values != expectedSum { problems.append("allReduce sum, \(count) floats (\(comm.lastAlgorithm))") }

        var maxima = (0..<count).map { Float(($0 + r) % n) }
        try maxima.withUnsafeMutableBytes { try comm.allReduce($0, type: .float32, op: .max) }
        if maxima != Array(repeating: Float(n - 1), count: count) { problems.append("allReduce max, \(count) floats") }

        let mine = (0..<count).map { Int32(r * 1_000_003 + $0) }
        var gathered = [Int32](repeating: 0, count: n * count)
        try mine.withUnsafeBytes { i in try gathered.withUnsafeMutableBytes { try comm.allGather(i, into: $0) } }
        let expectedGather: [Int32] = (0..<n).flatMap { q in (0..<count).map { Int32(q * 1_000_003 + $0) } }
        if gathered != expectedGather {
            problems.append("allGather, \(count) ints")
        }

        let input = (0..<(n * count)).map { Int32($0 - r) }
        var chunk = [Int32](repeating: 0, count: count)
        try input.withUnsafeBytes { i in try chunk.withUnsafeMutableBytes { try comm.reduceScatter(i, into: $0, type: .int32, op: .sum) } }
        let rankSum = Int32(n * (n - 1) / 2)
        let expectedChunk: [Int32] = (0..<count).map { Int32(n) * Int32(r * count + $0) - rankSum }
        if chunk != expectedChunk { problems.append("reduceScatter, \(count) ints") }

        let root = count % n
        var shared = r == root ? (0..<count).map { Int32($0 * 3) } : Array(repeating: -1, count: count)
        try shared.withUnsafeMutableBytes { try comm.broadcast($0, root: root) }
        if shared != (0..<count).map({ Int32($0 * 3) }) { problems.append("broadcast from \(root), \(count) ints") }
        return problems.map { "rank \(r): \($0)" }
    }
}
