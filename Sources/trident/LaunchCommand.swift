import ArgumentParser
import Foundation
import TridentLauncher

/// `trident launch --nproc N [--nnodes M --node-rank K --master-addr A --master-port P] -- PROGRAM ARGS...`
/// (or `--hostfile F`, and torchrun's spellings: `LaunchRendezvousOptions`)
///
/// Starts N copies of PROGRAM on this node as ranks `node_rank * N + i` of a world of
/// `M * N` (with a hostfile: after the slots of the hosts above this one), with RANK /
/// WORLD_SIZE / LOCAL_RANK / MASTER_ADDR / MASTER_PORT / TRIDENT_SECRET set (like torchrun),
/// forwards their output prefixed `[rank i] `, and fails if any fails.
struct LaunchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "launch",
        abstract: "Start worker processes with rank variables set (like torchrun).",
        discussion: """
            Example: trident launch --nproc 2 -- trident bench allreduce
            Several nodes: run on every node with the same --nnodes, --master-addr, --master-port \
            and TRIDENT_SECRET, and --node-rank 0..nnodes-1 (the port defaults to 29500). \
            Or run `trident launch --hostfile F -- ...` on every host of F.
            """)

    @Option(name: .long, help: "Worker processes on this node (default 1, or this host's slots with --hostfile).")
    var nproc: Int?

    @Option(name: .long, help: "Number of nodes in the job.")
    var nnodes: Int = 1

    @Option(name: .customLong("node-rank"), help: "This node's index (0 serves the rendezvous store; default 0, or found in --hostfile).")
    var nodeRank: Int?

    @Option(name: .customLong("master-addr"), help: "Address of node 0 (default 127.0.0.1, or the first host of --hostfile).")
    var masterAddr: String?

    @Option(name: .customLong("master-port"), help: "Rendezvous port on node 0 (default: a free one on one node, 29500 on several).")
    var masterPort: Int?

    @OptionGroup(title: "Hostfile and torchrun options")
    var rendezvous: LaunchRendezvousOptions

    @Flag(name: .customLong("no-prefix"), help: "Do not prefix output lines with [rank N].")
    var noPrefix = false

    @Option(name: .customLong("direct-output-rank"), help: "This rank's stdout is passed through unprefixed and unbuffered.")
    var directOutputRank: Int?

    @Option(name: .customLong("rdzv-timeout"),
            help: "Seconds for every rank to join and connect (then the 10 s liveness rule applies).")
    var rdzvTimeout: Int = 300

    @Argument(parsing: .postTerminator, help: "PROGRAM ARGS... (after --)")
    var command: [String] = []

    func validate() throws {
        guard !command.isEmpty else { throw ValidationError("give the program to run after --, e.g. -- trident bench allreduce") }
        if let nproc { try OptionCheck.integer(nproc, in: 1...Int.max, "--nproc") }
        guard (1...604_800).contains(rdzvTimeout) else {
            throw ValidationError("--rdzv-timeout must be 1...604800 seconds, got \(rdzvTimeout)")
        }
    }

    func run() throws {
        // Workers inherit the launcher's signal dispositions through exec: one started from a
        // process that ignores SIGPIPE (Python, a server) would otherwise hand that on, and a
        // worker writing to a closed pipe would get EPIPE errors instead of ending quietly.
        signal(SIGPIPE, SIG_DFL)
        // --nnodes 1 is the default: with --hostfile the file gives the node count.
        let topology = try rendezvous.topology(nproc: nproc, nnodes: nnodes == 1 ? nil : nnodes, nodeRank: nodeRank,
                                               masterAddr: masterAddr, masterPort: masterPort)
        var configuration = LaunchConfiguration(
            executable: Self.resolve(command[0]), arguments: Array(command.dropFirst()), processCount: topology.processCount,
            prefixOutput: !noPrefix, directOutputRank: directOutputRank)
        topology.apply(to: &configuration)
        configuration.rendezvousTimeout = .seconds(Int64(rdzvTimeout))
        try runLauncher(configuration)
    }

    /// Finds a program name on PATH (`trident` itself resolves to this binary).
    static func resolve(_ program: String) -> String {
        if program.contains("/") { return program }
        if program == "trident" { return (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "/proc/self/exe" }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return program
    }
}
