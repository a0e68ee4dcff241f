import Foundation
import TridentCollectives
#if canImport(Glibc)
import Glibc
#endif

/// A node launcher as it registered with the agent store.
struct NodeInfo: Codable, Sendable, Equatable {
    /// Registration number, unique in the job (a launcher started again gets a new one).
    var id: Int
    /// `--node-rank` it was started with: orders the nodes, not a fixed place.
    var requestedRank: Int
    /// Address the node reaches the master from.
    var address: String
    var pid: Int32
    /// `--nproc` of that node.
    var processCount: Int

    /// `node 1 (10.77.0.2, launcher pid 4242)`.
    var name: String { "node \(requestedRank) (\(address), launcher pid \(pid))" }
}

/// What the master decided for one round: run with these members, or end the job.
struct RoundPlan: Codable, Sendable, Equatable {
    enum Kind: String, Codable, Sendable { case run, succeeded, failed }
    var round: Int
    var kind: Kind
    /// Restarts so far (0 for the first round): the workers' `TORCHELASTIC_RESTART_COUNT`.
    var restart: Int
    /// Member node ids in node-rank order (the master first).
    var members: [Int] = []
    /// Workers per node.
    var processCount: Int = 1
    /// Port of the workers' rendezvous on the master address (fresh each round).
    var workerPort: Int = 0
    /// Nodes that left the job, by id, with the reason; they must not come back under that id.
    var excluded: [Int: String] = [:]
    /// Why this round began (or why the job ended).
    var reason: String = ""

    var worldSize: Int { members.count * processCount }
}

/// How a node's workers ended in one round.
struct NodeStatus: Codable, Sendable, Equatable {
    enum State: String, Codable, Sendable { case succeeded, failed, left }
    var state: State
    /// The world rank the node's launcher blamed (nil: none in particular).
    var culpritRank: Int?
    /// The culprit is one of this node's own workers, which failed by itself (not a witness).
    var ownFault: Bool = false
    /// `rank 1 was killed by signal 9 (SIGKILL)`.
    var detail: String = ""
}

/// The elastic job's records in the agent store (a `RendezvousStore` served by the master's
/// launcher). Keys:
/// - `elastic/nodes`: registration counter; `elastic/node/<id>`: a `NodeInfo`;
/// - `elastic/beat/<id>`: heartbeat counter, bumped every tick by that node;
/// - `elastic/current`: the latest round number; `elastic/round/<r>`: its `RoundPlan`;
/// - `elastic/status/<r>/<id>`: a `NodeStatus`, once that node's workers of round r ended;
/// - `elastic/ack/<id>`: set by a node that saw the job's end.
///
/// Every call is one request with the client's deadline (it never waits for a key).
struct MembershipStore: @unchecked Sendable {
    let client: RendezvousClient

    /// Registers this node; returns its id (its `NodeInfo.id`).
    func register(requestedRank: Int, processCount: Int) throws -> NodeInfo {
        let id = Int(try client.add("elastic/nodes", 1)) - 1
        let info = NodeInfo(id: id, requestedRank: requestedRank, address: client.localHost, pid: getpid(),
                            processCount: processCount)
        try put("elastic/node/\(id)", info)
        try client.add("elastic/beat/\(id)", 1)
        return info
    }

    /// Registrations so far (ids `0..<count`).
    func nodeCount() throws -> Int { Int(try client.add("elastic/nodes", 0)) }

    /// Node `id`'s record; nil while it registers (counter bumped, record not yet written).
    func node(_ id: Int) throws -> NodeInfo? { try fetch("elastic/node/\(id)") }

    func beat(_ id: Int) throws { try client.add("elastic/beat/\(id)", 1) }
    func beats(_ id: Int) throws -> Int64 { try client.add("elastic/beat/\(id)", 0) }

    /// Writes the plan, then moves `elastic/current` to it.
    func publish(_ plan: RoundPlan) throws {
        try put("elastic/round/\(plan.round)", plan)
        try client.set("elastic/current", Array(String(plan.round).utf8))
    }

    /// The latest round number; nil before the first round.
    func currentRound() throws -> Int? {
        try client.value("elastic/current").flatMap { Int(String(decoding: $0, as: UTF8.self)) }
    }

    func plan(_ round: Int) throws -> RoundPlan? { try fetch("elastic/round/\(round)") }

    func report(_ status: NodeStatus, round: Int, node: Int) throws { try put("elastic/status/\(round)/\(node)", status) }
    func status(round: Int, node: Int) throws -> NodeStatus? { try fetch("elastic/status/\(round)/\(node)") }

    /// This node saw the job's end (or its exclusion); the master may stop the store.
    func acknowledge(_ node: Int) throws { try client.set("elastic/ack/\(node)", [1]) }
    func acknowledged(_ node: Int) throws -> Bool { try client.value("elastic/ack/\(node)") != nil }

    private func put<T: Encodable>(_ key: String, _ value: T) throws {
        try client.set(key, Array(try JSONEncoder().encode(value)))
    }

    private func fetch<T: Decodable>(_ key: String) throws -> T? {
        guard let bytes = try client.value(key) else { return nil }
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw LaunchError.badEnvironment("agent store record '\(key)' is malformed: \(error)")
        }
    }
}
