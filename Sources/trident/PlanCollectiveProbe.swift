import Foundation
import Logging
import TridentCollectives
import TridentLauncher
import TridentPlanner

/// Measures what one all-reduce costs on this host when two ranks compute between
/// collectives, as the engine's TP ranks do (`bench allreduce` times back-to-back
/// collectives, whose ranks are always both running). The difference is the time a rank
/// waits for a peer that is sleeping or not scheduled: small on an idle host, large on an
/// oversubscribed one.
///
/// `trident plan --probe-collectives` runs it: without RANK in the environment it launches
/// two copies of this binary (TCP / shared-memory backend); each spins for `gap` seconds of
/// wall-clock time, then all-reduces `bytes`, `iterations` times; rank 0 prints
/// `{"seconds_per_collective": (elapsed - iterations * gap) / iterations, ...}`.
enum CollectiveProbe {
    /// Launcher or worker side of the probe, depending on the environment.
    static func run(gapSeconds: Double, bytes: Int, iterations: Int) throws {
        guard let worker = try WorkerEnvironment.current() else {
            let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
            try LocalLauncher(LaunchConfiguration(executable: executable, arguments: Array(CommandLine.arguments.dropFirst()),
                                                  processCount: 2, prefixOutput: false)).run()
            return
        }
        let comm = try TCPCommunicator.connect(worker)
        var buffer = [Float](repeating: 1, count: max(1, bytes / 4))
        for _ in 0..<10 { try comm.allReduce(&buffer, op: .max) }
        try comm.barrier()
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations {
            let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(gapSeconds * 1e9)
            while DispatchTime.now().uptimeNanoseconds < deadline {}
            try comm.allReduce(&buffer, op: .max)
        }
        var elapsed = [Float(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)]
        try comm.allReduce(&elapsed, op: .max)
        if comm.rank == 0 {
            let perCollective = max(0, (Double(elapsed[0]) - Double(iterations) * gapSeconds) / Double(iterations))
            print(try JSONLine.render(["seconds_per_collective": perCollective, "gap_seconds": gapSeconds,
                                       "bytes": buffer.count * 4, "iterations": iterations]))
        }
    }

    /// Runs the probe as a child process and returns its report.
    static func measure(modelPath: String, gapSeconds: Double, bytes: Int, iterations: Int) throws -> CollectiveProbeReport {
        Logger(label: "trident.plan").notice("measuring all-reduce cost between computing ranks")
        let output = try TridentChild().run(["plan", "--model", modelPath, "--probe-collectives",
                                             "--probe-gap-us", String(format: "%.1f", gapSeconds * 1e6),
                                             "--probe-bytes", "\(bytes)", "--probe-iterations", "\(iterations)"])
        return try CollectiveProbeReport.parse(output)
    }
}
