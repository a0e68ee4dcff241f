import Foundation
import TridentCollectives

/// The launcher of one node of an elastic job (`trident launch --nnodes MIN:MAX --max-restarts N`),
/// torchrun's elastic agent: every node runs one, no ssh.
///
/// The master (`--node-rank 0`, at `--master-addr`) serves the agent store (a `RendezvousStore`
/// on `--master-port`, the job secret on every connection) and decides the rounds
/// (`ElasticMaster`); every node launcher, the master's included, registers there, beats every
/// `policy.tick`, runs its workers when it is a member of the current round and reports how they
/// ended. When a round fails, every launcher stops its workers (SIGTERM, SIGKILL after the grace)
/// and starts the next round's: new WORLD_SIZE, contiguous node ranks, a fresh workers' port,
/// `TORCHELASTIC_RESTART_COUNT` / `TRIDENT_RESTART_COUNT` = the restart number. A launcher that
/// registers while the job runs waits and is admitted at the next restart (up to MAX).
/// Every decision is logged through `log` with its reason.
public final class ElasticAgent: @unchecked Sendable {
    public let configuration: LaunchConfiguration
    public let policy: ElasticPolicy
    private let log: @Sendable (String) -> Void
    private let lock = NSLock()
    private var signalled: Int32?

    /// `configuration.nodeRank` is the requested node rank (0: the master), `masterPort` the
    /// agent store's port (0 on a single-node job: pick one); `nodeCount` is not used.
    public init(_ configuration: LaunchConfiguration, policy: ElasticPolicy,
                log: @escaping @Sendable (String) -> Void = ElasticAgent.standardLog) {
        self.configuration = configuration
        var policy = policy
        policy.stopGrace = configuration.terminationGrace
        self.policy = policy
        self.log = log
    }

    /// Writes `trident launch: LINE` to stderr.
    public static let standardLog: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data("trident launch: \(line)\n".utf8))
    }

    /// Runs this node's part of the job until it succeeds (returns) or fails (throws).
    public func run() throws(ElasticError) {
        let c = configuration
        let secret: String
        do throws(LaunchError) {
            try validate()
            secret = try resolveSecret()
        } catch { throw .launch(error) }
        let isMaster = c.nodeRank == 0
        var store: RendezvousStore?
        if isMaster {
            do {
                store = try RendezvousStore(host: c.masterAddress, port: c.masterPort, secret: secret)
            } catch { throw .launch(.invalidConfiguration("cannot serve the elastic agent store: \(error)")) }
        }
        defer { store?.stop() }
        let port = store?.port ?? c.masterPort
        let client = try connect(port: port, secret: secret)
        let membership = MembershipStore(client: client)
        let me: NodeInfo
        do { me = try membership.register(requestedRank: c.nodeRank, processCount: c.processCount) } catch {
            throw .agentStoreLost("registering with \(c.masterAddress):\(port): \(error)")
        }
        let heartbeat = Heartbeat(store: membership, node: me.id, every: policy.tick)
        defer { heartbeat.stop() }
        if isMaster {
            log("\(me.name) serves the elastic agent store on \(c.masterAddress):\(port); --nnodes \(policy.nodes), --max-restarts \(policy.maxRestarts)")
        } else {
            log("\(me.name) registered with the elastic agent store at \(c.masterAddress):\(port)")
        }
        let master = isMaster ? ElasticMaster(store: membership, policy: policy, me: me, masterAddress: c.masterAddress, log: log) : nil
        var session = NodeSession(agent: self, store: membership, me: me, secret: secret)
        defer { session.stopWorkers() }
        try session.loop(master: master, heartbeat: heartbeat)
    }

    /// The signal this launcher received while workers ran, if any.
    var interruption: Int32? { lock.withLock { signalled } }
    func interrupted(by signal: Int32) { lock.withLock { if signalled == nil { signalled = signal } } }
    func say(_ line: String) { log(line) }

    private func validate() throws(LaunchError) {
        let c = configuration
        try policy.validate()
        guard c.processCount >= 1 else { throw .invalidConfiguration("process count must be >= 1, got \(c.processCount)") }
        guard (0..<policy.nodes.maximum).contains(c.nodeRank) else {
            throw .invalidConfiguration("--node-rank \(c.nodeRank) is outside --nnodes \(policy.nodes) (0..<\(policy.nodes.maximum))")
        }
        guard (0...65_535).contains(c.masterPort) else { throw .invalidConfiguration("master port \(c.masterPort) is not a TCP port") }
        if policy.nodes.maximum > 1 && c.masterPort == 0 {
            throw .invalidConfiguration("with --nnodes \(policy.nodes) every node needs the same explicit --master-port (the agent store's)")
        }
    }

    private func resolveSecret() throws(LaunchError) -> String {
        if let secret = configuration.secret { return secret }
        if let secret = ProcessInfo.processInfo.environment[WorkerEnvironment.Key.secret], !secret.isEmpty { return secret }
        guard policy.nodes.maximum == 1 else {
            throw .invalidConfiguration("with --nnodes \(policy.nodes) set the same TRIDENT_SECRET on every node")
        }
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(generator.next() as UInt64, radix: 16) }.joined()
    }

    /// Connects to the agent store, retrying until the forming deadline (the master may start later).
    private func connect(port: Int, secret: String) throws(ElasticError) -> RendezvousClient {
        let deadline = ContinuousClock.now + policy.formingTimeout
        while true {
            do {
                return try RendezvousClient(host: configuration.masterAddress, port: port, secret: secret, rank: -1,
                                            timeout: Self.requestTimeout)
            } catch let error as CollectiveError where error.kind == .timeout || error.kind == .backend {
                if ContinuousClock.now >= deadline {
                    throw .agentStoreLost("cannot reach \(configuration.masterAddress):\(port) within \(Int(policy.formingTimeout.inSeconds)) s: \(error)")
                }
                usleep(200_000)
            } catch {
                throw .agentStoreLost("\(configuration.masterAddress):\(port): \(error)")
            }
        }
    }

    /// Deadline of one store request (plus the client's 5 s margin).
    static let requestTimeout = Duration.seconds(3)
}

/// Bumps this node's heartbeat counter in the agent store from its own thread, so that a
/// launcher busy stopping its workers still beats. Records the first store error.
final class Heartbeat: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var failure: String?
    private let done = DispatchGroup()

    init(store: MembershipStore, node: Int, every interval: Duration) {
        done.enter()
        Thread.detachNewThread { [self] in
            defer { done.leave() }
            while !lock.withLock({ stopped }) {
                do { try store.beat(node) } catch {
                    lock.withLock { failure = "\(error)" }
                    return
                }
                Thread.sleep(forTimeInterval: interval.inSeconds)
            }
        }
    }

    /// The store error that ended the heartbeat, if any.
    var error: String? { lock.withLock { failure } }

    func stop() {
        lock.withLock { stopped = true }
        done.wait()
    }
}
