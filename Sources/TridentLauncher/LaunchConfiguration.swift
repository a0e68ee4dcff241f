/// How `LocalLauncher` starts the worker processes of one node.
///
/// World ranks are `nodeRank * processCount + localRank`; the world has
/// `nodeCount * processCount` ranks. When nodes run different counts (`nodeProcessCounts`, from
/// a hostfile's slots), node `k`'s first rank is the sum of the counts of nodes `0..<k`. With several nodes, every node's launcher must be given
/// the same `masterAddress`, a fixed `masterPort` and the same secret.
public struct LaunchConfiguration: Sendable {
    /// Program to start (absolute path; `/proc/self/exe` re-executes the current binary).
    public var executable: String
    public var arguments: [String]
    /// Worker processes on this node.
    public var processCount: Int
    public var nodeCount: Int
    /// This node's index, `0..<nodeCount`.
    public var nodeRank: Int
    public var masterAddress: String
    /// 0: pick a free port (single node only).
    public var masterPort: Int
    /// Extra variables for the workers (on top of this process's environment).
    public var environment: [String: String]
    /// Prefix every forwarded output line with `[rank N] `.
    public var prefixOutput: Bool
    /// Job secret; nil: `TRIDENT_SECRET` of this process, or a random one on a single node.
    public var secret: String?
    /// After a rank fails: how long the others get between SIGTERM and SIGKILL.
    public var terminationGrace: Duration
    /// When set (and on this node), that world rank's stdout is inherited directly: no pipe,
    /// no prefix, no line buffering (for streaming generated tokens). Its stderr stays prefixed.
    public var directOutputRank: Int?
    /// Deadline for forming the job, passed to the workers as `TRIDENT_RDZV_TIMEOUT`; nil: not
    /// set (the workers inherit this process's variable, else the backend's default).
    public var rendezvousTimeout: Duration?
    /// Worker processes of every node by node rank, when they differ (a hostfile's slots);
    /// `nodeProcessCounts[nodeRank]` must equal `processCount`. nil: `processCount` on every node.
    public var nodeProcessCounts: [Int]?

    public init(executable: String, arguments: [String], processCount: Int, nodeCount: Int = 1, nodeRank: Int = 0,
                masterAddress: String = "127.0.0.1", masterPort: Int = 0, environment: [String: String] = [:],
                prefixOutput: Bool = true, secret: String? = nil, terminationGrace: Duration = .seconds(5),
                directOutputRank: Int? = nil) {
        self.executable = executable
        self.arguments = arguments
        self.processCount = processCount
        self.nodeCount = nodeCount
        self.nodeRank = nodeRank
        self.masterAddress = masterAddress
        self.masterPort = masterPort
        self.environment = environment
        self.prefixOutput = prefixOutput
        self.secret = secret
        self.terminationGrace = terminationGrace
        self.directOutputRank = directOutputRank
    }

    /// World rank of local process `localRank`.
    public func worldRank(localRank: Int) -> Int {
        (nodeProcessCounts.map { $0.prefix(nodeRank).reduce(0, +) } ?? nodeRank * processCount) + localRank
    }
    public var worldSize: Int { nodeProcessCounts?.reduce(0, +) ?? nodeCount * processCount }
}

/// Why a launch failed.
public enum LaunchError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The configuration cannot work (says which field and why).
    case invalidConfiguration(String)
    /// Worker variables are missing or malformed.
    case badEnvironment(String)
    /// A worker could not be started.
    case spawnFailed(rank: Int, detail: String)
    /// A worker exited with a non-zero status.
    case workerExited(rank: Int, status: Int32)
    /// A worker was killed by a signal.
    case workerSignaled(rank: Int, signal: Int32)
    /// A worker failed for a known reason (its own error line, or what its peers reported).
    case rankFailed(rank: Int, reason: String)
    /// The worker whose stdout is passed through died of SIGPIPE: its reader went away
    /// (`| head`). Not an error to report: the job ends quietly, as `yes | head` does.
    case outputClosed(rank: Int)

    public var description: String {
        switch self {
        case .invalidConfiguration(let detail): "invalid launch configuration: \(detail)"
        case .badEnvironment(let detail): "bad worker environment: \(detail)"
        case .spawnFailed(let rank, let detail): "could not start rank \(rank): \(detail)"
        case .workerExited(let rank, let status): "rank \(rank) exited with status \(status); the other ranks were stopped"
        case .workerSignaled(let rank, let signal):
            "rank \(rank) was killed by signal \(signal) (\(signalName(signal))); the other ranks were stopped"
        case .rankFailed(let rank, let reason): "rank \(rank) failed: \(reason)"
        case .outputClosed(let rank): "the output of rank \(rank) was closed (broken pipe)"
        }
    }
}

func signalName(_ signal: Int32) -> String {
    switch signal {
    case 1: "SIGHUP"; case 2: "SIGINT"; case 6: "SIGABRT"; case 9: "SIGKILL"; case 11: "SIGSEGV"
    case 13: "SIGPIPE"; case 15: "SIGTERM"; case 19: "SIGSTOP"; case 4: "SIGILL"; case 5: "SIGTRAP"; case 7: "SIGBUS"; case 8: "SIGFPE"
    default: "signal \(signal)"
    }
}
