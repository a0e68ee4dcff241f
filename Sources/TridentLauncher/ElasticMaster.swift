import Foundation

/// The master node launcher's side of an elastic job: it watches registrations, heartbeats and
/// the nodes' reports in the agent store, and publishes each round's `RoundPlan`
/// (`ElasticRendezvous` decides). Driven by `ElasticAgent`, one `tick` per agent tick.
final class ElasticMaster {
    private let store: MembershipStore
    private let policy: ElasticPolicy
    private let me: NodeInfo
    private let masterAddress: String
    private let log: (String) -> Void
    private var nodes: [Int: NodeInfo] = [:]
    /// Last heartbeat counter of each node and when it last changed.
    private var beats: [Int: (count: Int64, changed: ContinuousClock.Instant)] = [:]
    /// Nodes found dead, with the reason (`stopped heartbeating for 5.0 s`).
    private var gone: [Int: String] = [:]
    private var plan: RoundPlan?
    /// Reports of the current round in the order seen, and when the first failure was seen.
    private var reports: [(node: Int, status: NodeStatus)] = []
    private var failureSeen: ContinuousClock.Instant?
    private let formingSince = ContinuousClock.now
    private var minimumSince: ContinuousClock.Instant?

    init(store: MembershipStore, policy: ElasticPolicy, me: NodeInfo, masterAddress: String, log: @escaping (String) -> Void) {
        self.store = store
        self.policy = policy
        self.me = me
        self.masterAddress = masterAddress
        self.log = log
        nodes[me.id] = me
    }

    /// One look at the store; publishes a plan when one is due. Throws on store errors, and
    /// `ElasticError.formingTimedOut` when MIN nodes did not register in time.
    func tick() throws {
        let now = ContinuousClock.now
        try refreshNodes(now)
        try refreshBeats(now)
        guard let current = plan else { return try form(now) }
        guard current.kind == .run else { return }
        try watch(current, now)
    }

    private func refreshNodes(_ now: ContinuousClock.Instant) throws {
        let count = try store.nodeCount()
        for id in 0..<count where nodes[id] == nil {
            guard let info = try store.node(id) else { continue }
            nodes[id] = info
            beats[id] = (0, now)
            if info.processCount != me.processCount {
                gone[id] = "was started with --nproc \(info.processCount), the master with \(me.processCount)"
                log("refused \(info.name): \(gone[id]!)")
                continue
            }
            let place = plan == nil ? "" : "; it waits for the next restart (admitted then, up to \(policy.nodes.maximum) nodes)"
            log("\(info.name) registered\(place)")
        }
    }

    private func refreshBeats(_ now: ContinuousClock.Instant) throws {
        for id in nodes.keys where id != me.id && gone[id] == nil && plan?.excluded[id] == nil {
            let count = try store.beats(id)
            if let last = beats[id], last.count == count {
                let silent = now - last.changed
                if silent > policy.heartbeatTimeout {
                    gone[id] = String(format: "stopped heartbeating for %.1f s", silent.inSeconds)
                    log("\(nodes[id]!.name) \(gone[id]!)")
                }
            } else {
                beats[id] = (count, now)
            }
        }
    }

    /// Live registered nodes with this master's --nproc.
    private var alive: [NodeInfo] { nodes.values.filter { gone[$0.id] == nil }.sorted { $0.id < $1.id } }

    private func form(_ now: ContinuousClock.Instant) throws {
        let count = alive.count
        minimumSince = count >= policy.nodes.minimum ? (minimumSince ?? now) : nil
        let lastCallOver = minimumSince.map { now - $0 >= policy.lastCall } ?? false
        guard count >= policy.nodes.maximum || lastCallOver else {
            if now - formingSince > policy.formingTimeout {
                throw ElasticError.formingTimedOut(registered: count, minimum: policy.nodes.minimum,
                                                   seconds: Int(policy.formingTimeout.inSeconds))
            }
            return
        }
        let port = try LocalLauncher.freePort(host: masterAddress)
        var first = ElasticRendezvous.first(nodes: alive, master: me.id, processCount: me.processCount, policy: policy, port: port)
        first.excluded = gone
        try publish(first)
    }

    private func watch(_ current: RoundPlan, _ now: ContinuousClock.Instant) throws {
        for node in current.members where !reports.contains(where: { $0.node == node }) {
            guard let status = try store.status(round: current.round, node: node) else { continue }
            reports.append((node, status))
            if status.state == .left { gone[node] = "left the job (\(status.detail))" }
        }
        let lost = current.members.filter { gone[$0] != nil }
        let failed = reports.contains { $0.status.state != .succeeded } || !lost.isEmpty
        if !failed {
            if reports.count == current.members.count {
                try publish(RoundPlan(round: current.round + 1, kind: .succeeded, restart: current.restart,
                                      members: current.members, processCount: current.processCount,
                                      excluded: current.excluded, reason: "every worker finished"))
            }
            return
        }
        let firstSeen = failureSeen ?? now
        failureSeen = firstSeen
        let everyoneSpoke = current.members.allSatisfy { node in gone[node] != nil || reports.contains { $0.node == node } }
        guard everyoneSpoke || now - firstSeen >= policy.settle else { return }
        let names = nodes.mapValues(\.name)
        let blame = ElasticRendezvous.blame(current, reports: reports, gone: gone, names: names)
        let waiting = alive.map(\.id).filter { !current.members.contains($0) && current.excluded[$0] == nil }
        let port = try LocalLauncher.freePort(host: masterAddress)
        try publish(ElasticRendezvous.next(after: current, blame: blame, gone: gone.filter { nodes[$0.key] != nil },
                                           waiting: waiting, master: me.id, policy: policy, port: port, names: names))
    }

    /// Ends the job for every node with `reason` (unless it already ended), then lingers.
    func fail(_ reason: String) {
        if plan?.kind ?? .run == .run {
            try? publish(RoundPlan(round: (plan?.round ?? -1) + 1, kind: .failed, restart: plan?.restart ?? 0,
                                   members: plan?.members ?? [], processCount: me.processCount,
                                   excluded: plan?.excluded ?? [:], reason: reason))
        }
        linger()
    }

    /// Keeps the store up until every live node that must see the end has acknowledged it, or
    /// a heartbeat timeout plus a stop grace has passed.
    func linger() {
        let deadline = ContinuousClock.now + policy.heartbeatTimeout + policy.stopGrace + .seconds(1)
        let waiting = alive.map(\.id).filter { $0 != me.id && plan?.excluded[$0] == nil }
        while ContinuousClock.now < deadline {
            let missing = waiting.filter { (try? store.acknowledged($0)) != true }
            if missing.isEmpty { return }
            Thread.sleep(forTimeInterval: policy.tick.inSeconds)
        }
    }

    private func publish(_ next: RoundPlan) throws {
        try store.publish(next)
        plan = next
        reports = []
        failureSeen = nil
    }
}

extension Duration {
    /// The duration in seconds.
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
