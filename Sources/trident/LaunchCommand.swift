import ArgumentParser
import Foundation
import TridentLauncher

/// `trident launch --nproc N [--nnodes M|MIN:MAX --max-restarts R --node-rank K --master-addr A --master-port P] -- PROGRAM ARGS...`
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
            Elastic (--nnodes MIN:MAX or --max-restarts R > 0): node rank 0's launcher serves an agent \
            store on --master-port; when a worker dies or a node's launcher stops heartbeating, every \
            launcher stops its workers and restarts the command on the nodes still alive (at least MIN; \
            the node whose worker failed leaves unless it is node 0 or MIN would not be met), with new \
            RANK/WORLD_SIZE, a fresh MASTER_PORT and TORCHELASTIC_RESTART_COUNT, at most R times. A node \
            started later waits and joins at the next restart (up to MAX).
            """)

    @Option(name: .long, help: "Worker processes on this node (default 1, or this host's slots with --hostfile).")
    var nproc: Int?

    @Option(name: .long, help: ArgumentHelp("Nodes in the job: N, or MIN:MAX for an elastic job (restarts on the nodes still alive, admits late nodes at a restart).", valueName: "N|MIN:MAX"))
    var nnodes: NodeCountRange = NodeCountRange(minimum: 1, maximum: 1)

    @Option(name: .customLong("max-restarts"), help: "Restarts of the workers after a failure (elastic agent; 0: the first failure ends the job).")
    var maxRestarts: Int = 0

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
        try OptionCheck.integer(maxRestarts, in: 0...1_000_000, "--max-restarts")
        guard (1...604_800).contains(rdzvTimeout) else {
            throw ValidationError("--rdzv-timeout must be 1...604800 seconds, got \(rdzvTimeout)")
        }
    }

    func run() throws {
        // Workers inherit the launcher's signal dispositions through exec: one started from a
        // process that ignores SIGPIPE (Python, a server) would otherwise hand that on, and a
        // worker writing to a closed pipe would get EPIPE errors instead of ending quietly.
        signal(SIGPIPE, SIG_DFL)
        // The launcher forwards SIGINT and SIGTERM to its workers, so they must act on them: a
        // launcher started in the background of a script (which ignores SIGINT) would otherwise
        // pass on a signal its workers ignore, and the job would never stop. (An ignored SIGHUP,
        // as under nohup, is kept.)
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        // --nnodes 1 is the default: with --hostfile the file gives the node count. An elastic
        // job forms on up to MAX nodes.
        let isDefault = nnodes.minimum == 1 && nnodes.maximum == 1
        let topology = try rendezvous.topology(nproc: nproc, nnodes: isDefault ? nil : nnodes.maximum, nodeRank: nodeRank,
                                               masterAddr: masterAddr, masterPort: masterPort)
        var configuration = LaunchConfiguration(
            executable: Self.resolve(command[0]), arguments: Array(command.dropFirst()), processCount: topology.processCount,
            prefixOutput: !noPrefix, directOutputRank: directOutputRank)
        topology.apply(to: &configuration)
        configuration.rendezvousTimeout = .seconds(Int64(rdzvTimeout))
        guard nnodes.isFixed && maxRestarts == 0 else {
            var policy = ElasticPolicy(nodes: nnodes, maxRestarts: maxRestarts)
            policy.formingTimeout = .seconds(Int64(rdzvTimeout))
            return try runElastic(configuration, policy: policy)
        }
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

extension NodeCountRange: ExpressibleByArgument {
    public init?(argument: String) {
        guard let range = try? NodeCountRange(parsing: argument) else { return nil }
        self = range
    }

    public var defaultValueDescription: String { description }
}
