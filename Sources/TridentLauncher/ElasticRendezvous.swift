/// The master's decisions of an elastic job as pure functions: whom to blame for a failed
/// round and what the next round is (or that the job ends). `ElasticMaster` feeds them what it
/// read from the agent store; tests call them directly.
///
/// The rules (documented for users in the README):
/// - a node whose launcher stopped heartbeating, or that left (interrupted), is dropped;
/// - the node one of whose own workers failed first (killed, non-zero exit, its own error) is
///   dropped too, unless it is the master (it serves the agent store) or dropping it would leave
///   fewer than MIN nodes: then it restarts in place, as torchrun does;
/// - the remaining members keep their order (the master stays node rank 0) and waiting nodes
///   are admitted after them, up to MAX;
/// - the job fails when no restart is left or fewer than MIN nodes remain.
enum ElasticRendezvous {
    /// The node blamed for a failed round and why (`rank 1 (node 1 ...) was killed by signal 9`).
    struct Blame: Equatable {
        var node: Int?
        var detail: String
    }

    /// Who caused the failure of `plan`'s round. `reports` are the nodes' statuses in the order
    /// the master saw them; `gone` the members found dead (no heartbeat) with the reason.
    static func blame(_ plan: RoundPlan, reports: [(node: Int, status: NodeStatus)], gone: [Int: String],
                      names: [Int: String]) -> Blame {
        func name(_ node: Int) -> String { names[node] ?? "node id \(node)" }
        let failed = reports.filter { $0.status.state != .succeeded }
        if let own = failed.first(where: { $0.status.ownFault }) {
            return Blame(node: own.node, detail: "\(own.status.detail) on \(name(own.node))")
        }
        if let witness = failed.first(where: { $0.status.culpritRank.map { (0..<plan.worldSize).contains($0) } ?? false }),
           let rank = witness.status.culpritRank {
            let node = plan.members[rank / plan.processCount]
            if let reason = gone[node] { return Blame(node: node, detail: "\(name(node)) \(reason)") }
            return Blame(node: node, detail: "\(witness.status.detail) (blamed by \(name(witness.node)))")
        }
        if let member = plan.members.first(where: { gone[$0] != nil }), let reason = gone[member] {
            return Blame(node: member, detail: "\(name(member)) \(reason)")
        }
        if let first = failed.first { return Blame(node: first.node, detail: "\(first.status.detail) on \(name(first.node))") }
        return Blame(node: nil, detail: "the round ended without a report")
    }

    /// The plan after the failed round `plan`: a restart with the surviving and admitted nodes,
    /// or the job's failure. `waiting` are registered, live nodes that are not members, in
    /// admission order; `port` is the next round's workers' port.
    static func next(after plan: RoundPlan, blame: Blame, gone: [Int: String], waiting: [Int], master: Int,
                     policy: ElasticPolicy, port: Int, names: [Int: String]) -> RoundPlan {
        var excluded = plan.excluded
        for (node, reason) in gone { excluded[node] = reason }
        var survivors = plan.members.filter { excluded[$0] == nil }
        let admissible = waiting.filter { excluded[$0] == nil && !survivors.contains($0) }
        if let culprit = blame.node, culprit != master, let index = survivors.firstIndex(of: culprit),
           survivors.count - 1 + admissible.count >= policy.nodes.minimum {
            survivors.remove(at: index)
            excluded[culprit] = "its workers failed: \(blame.detail)"
        }
        let members = survivors + admissible.prefix(max(0, policy.nodes.maximum - survivors.count))
        var result = RoundPlan(round: plan.round + 1, kind: .run, restart: plan.restart + 1, members: members,
                               processCount: plan.processCount, workerPort: port, excluded: excluded)
        func list(_ nodes: [Int]) -> String { "[" + nodes.map { names[$0] ?? "node id \($0)" }.joined(separator: ", ") + "]" }
        if plan.restart >= policy.maxRestarts {
            result.kind = .failed
            result.reason = "\(blame.detail); no restart left (--max-restarts \(policy.maxRestarts))"
        } else if members.count < policy.nodes.minimum || !members.contains(master) {
            result.kind = .failed
            result.reason = "\(blame.detail); only \(members.count) node(s) left \(list(members)), --nnodes \(policy.nodes) needs at least \(policy.nodes.minimum)"
        } else {
            result.reason = "restart \(result.restart) of at most \(policy.maxRestarts): \(blame.detail); nodes \(list(plan.members)) -> \(list(members)); world size \(plan.worldSize) -> \(result.worldSize)"
        }
        return result
    }

    /// The first round once enough nodes registered: the master first, then by requested node
    /// rank and registration, at most MAX.
    static func first(nodes: [NodeInfo], master: Int, processCount: Int, policy: ElasticPolicy, port: Int) -> RoundPlan {
        let others = nodes.filter { $0.id != master }.sorted { ($0.requestedRank, $0.id) < ($1.requestedRank, $1.id) }
        let members = [master] + others.prefix(policy.nodes.maximum - 1).map(\.id)
        var plan = RoundPlan(round: 0, kind: .run, restart: 0, members: members, processCount: processCount, workerPort: port)
        let names = Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, $0.name) })
        plan.reason = "first round: \(members.count) node(s) [\(members.map { names[$0] ?? "?" }.joined(separator: ", "))], world size \(plan.worldSize)"
        return plan
    }
}
