/// What `trident launch` was asked on its command line about the job's shape, before defaults:
/// every field is nil (or false) when its option was not given. `topology(identity:)` turns it
/// into the node count, this node's rank, its worker count and the rendezvous address.
///
/// Three ways to describe a job, torchrun's spellings accepted:
/// - plain: `--nproc N [--nnodes M --node-rank K --master-addr A --master-port P]`;
/// - `--standalone`: one node, the store on 127.0.0.1 at a free port;
/// - `--hostfile F`: the nodes are the file's hosts (the first is the master), this node finds
///   its rank in it (`NodeIdentity`) unless `--node-rank` is given, and runs its host's slots
///   unless `--nproc` is given (then every node runs `--nproc`).
///
/// `--rdzv-endpoint host[:port]` is another spelling of `--master-addr/--master-port`;
/// `--rdzv-backend` may only be `c10d` (world rank 0 serves a store, as torchrun's c10d does).
/// The port defaults to 29500 for a job of several nodes and to a free port on one node.
public struct LaunchRequest: Sendable {
    /// `--nproc`.
    public var nproc: Int?
    /// `--nproc-per-node` (torchrun's name for `--nproc`).
    public var nprocPerNode: Int?
    /// `--nnodes`.
    public var nnodes: Int?
    /// `--node-rank`.
    public var nodeRank: Int?
    /// `--master-addr`.
    public var masterAddress: String?
    /// `--master-port`.
    public var masterPort: Int?
    /// `--hostfile`, read.
    public var hostfile: Hostfile?
    /// `--standalone`.
    public var standalone = false
    /// `--rdzv-endpoint` (`host` or `host:port`).
    public var rendezvousEndpoint: String?
    /// `--rdzv-backend`.
    public var rendezvousBackend: String?

    /// The port of a job of several nodes when none is given (torchrun's MASTER_PORT default).
    public static let defaultMultiNodePort = 29_500

    public init() {}

    /// The job's shape on this node. Throws `LaunchError.invalidConfiguration` (one line naming
    /// the options) when options contradict each other or the hostfile.
    /// - Parameter identity: this machine, for finding its line in the hostfile.
    public func topology(identity: @autoclosure () -> NodeIdentity = .current()) throws(LaunchError) -> LaunchTopology {
        if let backend = rendezvousBackend, backend.lowercased() != "c10d" {
            throw .invalidConfiguration("--rdzv-backend \(backend) is not supported: trident's rank 0 serves the rendezvous store itself, as torchrun's c10d backend does; give c10d or leave it out")
        }
        let processes = try processCount()
        let endpoint = try explicitEndpoint()
        if standalone { return try standaloneTopology(processes: processes) }
        var shape: LaunchTopology
        if let hostfile {
            shape = try hostfileTopology(hostfile, processes: processes, identity: identity)
        } else {
            let nodes = nnodes ?? 1
            shape = LaunchTopology(processCount: processes ?? 1, nodeCount: nodes, nodeRank: nodeRank ?? 0,
                                   masterAddress: "127.0.0.1", masterPort: 0)
        }
        if let host = endpoint.host { shape.masterAddress = try HostAddress.ipv4(host, what: "master address") }
        shape.masterPort = endpoint.port ?? (shape.nodeCount > 1 ? Self.defaultMultiNodePort : 0)
        guard shape.nodeCount >= 1, (0..<shape.nodeCount).contains(shape.nodeRank) else {
            throw .invalidConfiguration("--node-rank \(shape.nodeRank) is outside the \(shape.nodeCount) node(s) of the job")
        }
        return shape
    }

    /// `--nproc` or `--nproc-per-node` (they must agree when both are given); nil: neither.
    private func processCount() throws(LaunchError) -> Int? {
        if let nproc, let nprocPerNode, nproc != nprocPerNode {
            throw .invalidConfiguration("--nproc \(nproc) and --nproc-per-node \(nprocPerNode) disagree (they are the same option)")
        }
        guard let count = nproc ?? nprocPerNode else { return nil }
        guard count >= 1 else { throw .invalidConfiguration("--nproc must be >= 1, got \(count)") }
        return count
    }

    /// The master host and port given by `--master-addr/--master-port` or `--rdzv-endpoint`.
    private func explicitEndpoint() throws(LaunchError) -> (host: String?, port: Int?) {
        guard let rendezvousEndpoint else { return (masterAddress, masterPort) }
        guard masterAddress == nil, masterPort == nil else {
            throw .invalidConfiguration("give either --rdzv-endpoint or --master-addr/--master-port, not both")
        }
        let parts = rendezvousEndpoint.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(parts.count), !parts[0].isEmpty else {
            throw .invalidConfiguration("--rdzv-endpoint must be host or host:port (IPv4 or a name), got '\(rendezvousEndpoint)'")
        }
        guard parts.count == 2 else { return (parts[0], nil) }
        guard let port = Int(parts[1]), (1...65_535).contains(port) else {
            throw .invalidConfiguration("--rdzv-endpoint port must be in 1...65535, got '\(parts[1])'")
        }
        return (parts[0], port)
    }

    private func standaloneTopology(processes: Int?) throws(LaunchError) -> LaunchTopology {
        let clashes = [(hostfile != nil, "--hostfile"), (rendezvousEndpoint != nil, "--rdzv-endpoint"),
                       (masterAddress != nil, "--master-addr"), (masterPort != nil, "--master-port"),
                       ((nnodes ?? 1) != 1, "--nnodes"), ((nodeRank ?? 0) != 0, "--node-rank")]
        if let clash = clashes.first(where: { $0.0 }) {
            throw .invalidConfiguration("--standalone runs one node on a free local port; it cannot be combined with \(clash.1)")
        }
        return LaunchTopology(processCount: processes ?? 1, nodeCount: 1, nodeRank: 0, masterAddress: "127.0.0.1", masterPort: 0)
    }

    private func hostfileTopology(_ file: Hostfile, processes: Int?,
                                  identity: () -> NodeIdentity) throws(LaunchError) -> LaunchTopology {
        if let nnodes, nnodes != file.hosts.count {
            throw .invalidConfiguration("--nnodes \(nnodes) disagrees with the \(file.hosts.count) host(s) of hostfile \(file.path)")
        }
        let rank: Int
        if let nodeRank { rank = nodeRank } else { rank = try identity().nodeRank(in: file) }
        guard file.hosts.indices.contains(rank) else {
            throw .invalidConfiguration("--node-rank \(rank) is outside the \(file.hosts.count) host(s) of hostfile \(file.path)")
        }
        let master = try HostAddress.ipv4(file.hosts[0].name, what: "master host (line \(file.hosts[0].line) of \(file.path))")
        return LaunchTopology(processCount: processes ?? file.hosts[rank].slots, nodeCount: file.hosts.count, nodeRank: rank,
                              nodeProcessCounts: processes == nil ? file.slots : nil, masterAddress: master, masterPort: 0)
    }
}

/// The shape of a job as this node's launcher runs it (see `LaunchConfiguration`).
public struct LaunchTopology: Sendable, Equatable {
    /// Worker processes on this node.
    public var processCount: Int
    public var nodeCount: Int
    /// This node's index, `0..<nodeCount`.
    public var nodeRank: Int
    /// Worker processes of every node when they may differ (hostfile slots); nil: `processCount` everywhere.
    public var nodeProcessCounts: [Int]?
    /// IPv4 address of node 0.
    public var masterAddress: String
    /// 0: pick a free port (one node only).
    public var masterPort: Int

    public init(processCount: Int, nodeCount: Int, nodeRank: Int, nodeProcessCounts: [Int]? = nil,
                masterAddress: String, masterPort: Int) {
        self.processCount = processCount
        self.nodeCount = nodeCount
        self.nodeRank = nodeRank
        self.nodeProcessCounts = nodeProcessCounts
        self.masterAddress = masterAddress
        self.masterPort = masterPort
    }

    /// Copies this shape into `configuration`.
    public func apply(to configuration: inout LaunchConfiguration) {
        configuration.processCount = processCount
        configuration.nodeCount = nodeCount
        configuration.nodeRank = nodeRank
        configuration.nodeProcessCounts = nodeProcessCounts
        configuration.masterAddress = masterAddress
        configuration.masterPort = masterPort
    }
}
