import ArgumentParser
import TridentLauncher

/// `trident launch` options that describe the job's nodes: a hostfile, and the spellings of
/// torchrun (`--nproc-per-node`, `--standalone`, `--rdzv-endpoint`, `--rdzv-backend`,
/// `--rdzv-id`). The rules that combine them with `--nproc/--nnodes/--node-rank/--master-*`
/// live in `LaunchRequest` (TridentLauncher), where they are tested.
struct LaunchRendezvousOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "File of 'host slots=N' lines ('#' comments); the first host is the master.",
        discussion: "Start the same command on every host: each finds its node rank by host name or interface address "
            + "(or give --node-rank) and runs its host's slots (or --nproc on every node). Ranks follow file order."))
    var hostfile: String?

    @Option(name: .customLong("nproc-per-node"), help: "torchrun's name for --nproc.")
    var nprocPerNode: Int?

    @Flag(name: .long, help: "One node, rendezvous on 127.0.0.1 at a free port (torchrun --standalone; the default).")
    var standalone = false

    @Option(name: .customLong("rdzv-endpoint"), help: "host[:port] of node 0 (same as --master-addr/--master-port, same default port).")
    var rdzvEndpoint: String?

    @Option(name: .customLong("rdzv-backend"), help: "Only c10d (node 0's launcher serves the store), accepted for torchrun scripts.")
    var rdzvBackend: String?

    @Option(name: .customLong("rdzv-id"), help: "Accepted for torchrun scripts and ignored (TRIDENT_SECRET tells jobs apart).")
    var rdzvId: String?

    /// The job's shape on this node from these options and the launch command's own.
    func topology(nproc: Int?, nnodes: Int?, nodeRank: Int?, masterAddr: String?, masterPort: Int?) throws -> LaunchTopology {
        var request = LaunchRequest()
        request.nproc = nproc
        request.nprocPerNode = nprocPerNode
        request.nnodes = nnodes
        request.nodeRank = nodeRank
        request.masterAddress = masterAddr
        request.masterPort = masterPort
        request.standalone = standalone
        request.rendezvousEndpoint = rdzvEndpoint
        request.rendezvousBackend = rdzvBackend
        do {
            if let hostfile { request.hostfile = try Hostfile(contentsOf: hostfile) }
            return try request.topology()
        } catch {
            throw ExitMessage("\(error)")
        }
    }
}
