import Foundation

/// The loop of one node launcher of an elastic job: follow the master's plans, run and stop
/// this node's workers, report how they ended.
struct NodeSession {
    let agent: ElasticAgent
    let store: MembershipStore
    let me: NodeInfo
    let secret: String
    private var workers: RoundWorkers?
    private var workersRound = -1
    private var localRanks = 0..<0
    private var reported = false
    private var seenRound = -1

    init(agent: ElasticAgent, store: MembershipStore, me: NodeInfo, secret: String) {
        self.agent = agent
        self.store = store
        self.me = me
        self.secret = secret
    }

    /// Ticks until the job ends: returns when it succeeded, throws why it failed for this node.
    mutating func loop(master: ElasticMaster?, heartbeat: Heartbeat) throws(ElasticError) {
        while true {
            if let signal = agent.interruption { return try leave(signal: signal, master: master) }
            if let error = heartbeat.error { throw .agentStoreLost(error) }
            do {
                try master?.tick()
                if let latest = try store.currentRound(), latest > seenRound {
                    seenRound = latest
                    guard let plan = try store.plan(latest) else { throw ElasticError.agentStoreLost("round \(latest) has no plan") }
                    if try follow(plan) {
                        master?.linger()
                        return
                    }
                }
                try reportIfEnded()
            } catch let error as ElasticError {
                stopWorkers()
                master?.fail("\(error)")
                throw error
            } catch {
                stopWorkers()
                master?.fail("the master's agent store failed: \(error)")
                throw .agentStoreLost("\(error)")
            }
            Thread.sleep(forTimeInterval: agent.policy.tick.inSeconds)
        }
    }

    /// Acts on a new plan; returns true when the job ended well (throws when it failed).
    private mutating func follow(_ plan: RoundPlan) throws -> Bool {
        guard plan.processCount == me.processCount else {
            try store.acknowledge(me.id)
            throw ElasticError.launch(.invalidConfiguration(
                "this node was started with --nproc \(me.processCount), the master with --nproc \(plan.processCount)"))
        }
        if let reason = plan.excluded[me.id] {
            stopWorkers()
            try store.acknowledge(me.id)
            throw ElasticError.excluded(reason)
        }
        switch plan.kind {
        case .succeeded:
            stopWorkers()
            try store.acknowledge(me.id)
            agent.say(workersRound >= 0 ? "the job finished: \(plan.reason)" : "the job finished before this node was admitted")
            return true
        case .failed:
            stopWorkers()
            try store.acknowledge(me.id)
            throw ElasticError.jobFailed(plan.reason)
        case .run:
            agent.say("round \(plan.round): \(plan.reason)")
            stopWorkers()
            guard let index = plan.members.firstIndex(of: me.id) else {
                agent.say("\(me.name) waits: the job runs on \(plan.members.count) node(s), at most \(agent.policy.nodes.maximum); it joins at the next restart")
                return false
            }
            start(plan, nodeIndex: index)
            return false
        }
    }

    private mutating func start(_ plan: RoundPlan, nodeIndex: Int) {
        var c = agent.configuration
        c.nodeCount = plan.members.count
        c.nodeRank = nodeIndex
        c.masterPort = plan.workerPort
        c.secret = secret
        for (key, value) in Self.restartVariables(plan, nodeIndex: nodeIndex, maxRestarts: agent.policy.maxRestarts) {
            c.environment[key] = value
        }
        localRanks = c.worldRank(localRank: 0)..<(c.worldRank(localRank: 0) + c.processCount)
        agent.say("\(me.name) is node rank \(nodeIndex) of \(plan.members.count): ranks \(localRanks.lowerBound)...\(localRanks.upperBound - 1) of WORLD_SIZE \(plan.worldSize), restart \(plan.restart), workers' rendezvous on \(c.masterAddress):\(plan.workerPort)")
        let agent = self.agent
        workers = RoundWorkers(c) { signal in agent.interrupted(by: signal) }
        workersRound = plan.round
        reported = false
    }

    /// The elastic variables of a round's workers (torchrun's names, plus Trident's).
    static func restartVariables(_ plan: RoundPlan, nodeIndex: Int, maxRestarts: Int) -> [String: String] {
        ["TORCHELASTIC_RESTART_COUNT": String(plan.restart), "TRIDENT_RESTART_COUNT": String(plan.restart),
         "TORCHELASTIC_MAX_RESTARTS": String(maxRestarts), "GROUP_RANK": String(nodeIndex),
         "GROUP_WORLD_SIZE": String(plan.members.count), "LOCAL_WORLD_SIZE": String(plan.processCount)]
    }

    /// Reports this node's workers once they have all ended.
    private mutating func reportIfEnded() throws {
        guard let workers, !reported, let outcome = workers.outcome else { return }
        let status = RoundWorkers.status(outcome, localRanks: localRanks)
        try store.report(status, round: workersRound, node: me.id)
        reported = true
        if status.state != .succeeded { agent.say("round \(workersRound): \(status.detail); waiting for the master's decision") }
    }

    /// Stops this node's workers of the current round, if any run.
    mutating func stopWorkers() {
        workers?.stop()
        workers = nil
    }

    /// The launcher was signalled: stop the workers, tell the master this node left, and end.
    private mutating func leave(signal: Int32, master: ElasticMaster?) throws(ElasticError) {
        stopWorkers()
        master?.fail("the master's launcher received signal \(signal) (\(signalName(signal)))")
        if workersRound >= 0 {
            try? store.report(NodeStatus(state: .left, detail: "its launcher received signal \(signal) (\(signalName(signal)))"),
                              round: workersRound, node: me.id)
        }
        throw .interrupted(signal: signal)
    }
}
