import Testing
@testable import TridentLauncher

/// The master's decisions (`ElasticRendezvous`) on scripted rounds: who is blamed, who is
/// dropped or admitted, when the job fails.
@Suite("Elastic rendezvous decisions")
struct ElasticRendezvousTests {
    static let names = [0: "node 0", 1: "node 1", 2: "node 2", 3: "node 3"]

    static func policy(_ min: Int, _ max: Int, restarts: Int) -> ElasticPolicy {
        ElasticPolicy(nodes: NodeCountRange(minimum: min, maximum: max), maxRestarts: restarts)
    }

    static func round(_ members: [Int], nproc: Int = 1, restart: Int = 0) -> RoundPlan {
        RoundPlan(round: restart, kind: .run, restart: restart, members: members, processCount: nproc, workerPort: 40_000)
    }

    @Test("--nnodes parses N and MIN:MAX and refuses the rest with the flag named")
    func nodeRange() throws {
        #expect(try NodeCountRange(parsing: "3") == NodeCountRange(minimum: 3, maximum: 3))
        #expect(try NodeCountRange(parsing: "1:4") == NodeCountRange(minimum: 1, maximum: 4))
        #expect(try NodeCountRange(parsing: "1:4").description == "1:4")
        for bad in ["", "0", "2:1", "1:", ":2", "a:b", "1:2:3", "0:2", "1:5000"] {
            let error = #expect(throws: LaunchError.self) { try NodeCountRange(parsing: bad) }
            #expect(error?.description.contains("--nnodes") == true, "\(bad)")
        }
    }

    @Test("a worker killed on node 1: node 1 is blamed (not node 0, the witness) and dropped; world size 2 -> 1")
    func killedWorkerShrinks() {
        let plan = Self.round([0, 1])
        let reports: [(node: Int, status: NodeStatus)] = [
            (0, NodeStatus(state: .failed, culpritRank: 1, ownFault: false, detail: "rank 1 failed: peer closed")),
            (1, NodeStatus(state: .failed, culpritRank: 1, ownFault: true, detail: "rank 1 was killed by signal 9 (SIGKILL)")),
        ]
        let blame = ElasticRendezvous.blame(plan, reports: reports, gone: [:], names: Self.names)
        #expect(blame == .init(node: 1, detail: "rank 1 was killed by signal 9 (SIGKILL) on node 1"))
        let next = ElasticRendezvous.next(after: plan, blame: blame, gone: [:], waiting: [], master: 0,
                                          policy: Self.policy(1, 2, restarts: 2), port: 40_001, names: Self.names)
        #expect(next.kind == .run && next.members == [0] && next.restart == 1 && next.worldSize == 1 && next.workerPort == 40_001)
        #expect(next.excluded[1]?.contains("SIGKILL") == true)
        #expect(next.reason.contains("world size 2 -> 1") && next.reason.contains("[node 0, node 1] -> [node 0]"), "\(next.reason)")
    }

    @Test("only a witness reported: the blamed rank's node (3 workers per node) is dropped")
    func witnessNamesTheNode() {
        let plan = Self.round([0, 2, 1], nproc: 3)
        let reports: [(node: Int, status: NodeStatus)] = [
            (0, NodeStatus(state: .failed, culpritRank: 4, ownFault: false, detail: "rank 4 failed: no heartbeat for 10.0 s")),
        ]
        let blame = ElasticRendezvous.blame(plan, reports: reports, gone: [:], names: Self.names)
        #expect(blame.node == 2)
        let next = ElasticRendezvous.next(after: plan, blame: blame, gone: [:], waiting: [], master: 0,
                                          policy: Self.policy(1, 3, restarts: 1), port: 1, names: Self.names)
        #expect(next.members == [0, 1] && next.worldSize == 6)
    }

    @Test("a silent node is dropped; a waiting node is admitted after the survivors, up to MAX")
    func deadAndWaiting() {
        let plan = Self.round([0, 1])
        let gone = [1: "stopped heartbeating for 5.2 s"]
        let blame = ElasticRendezvous.blame(plan, reports: [], gone: gone, names: Self.names)
        #expect(blame == .init(node: 1, detail: "node 1 stopped heartbeating for 5.2 s"))
        let next = ElasticRendezvous.next(after: plan, blame: blame, gone: gone, waiting: [3, 2], master: 0,
                                          policy: Self.policy(1, 2, restarts: 3), port: 1, names: Self.names)
        #expect(next.members == [0, 3] && next.excluded.keys.sorted() == [1])
    }

    @Test("the master's own worker failing restarts in place; a culprit kept when MIN would not be met")
    func restartInPlace() {
        let own = NodeStatus(state: .failed, culpritRank: 0, ownFault: true, detail: "rank 0 exited with status 1")
        let plan = Self.round([0, 1])
        let blame = ElasticRendezvous.blame(plan, reports: [(0, own)], gone: [:], names: Self.names)
        let next = ElasticRendezvous.next(after: plan, blame: blame, gone: [:], waiting: [2], master: 0,
                                          policy: Self.policy(1, 3, restarts: 1), port: 1, names: Self.names)
        #expect(next.kind == .run && next.members == [0, 1, 2])
        let fixed = Self.round([0, 1])
        let second = NodeStatus(state: .failed, culpritRank: 1, ownFault: true, detail: "rank 1 exited with status 3")
        let kept = ElasticRendezvous.next(after: fixed, blame: ElasticRendezvous.blame(fixed, reports: [(1, second)], gone: [:], names: Self.names),
                                          gone: [:], waiting: [], master: 0, policy: Self.policy(2, 2, restarts: 1), port: 1, names: Self.names)
        #expect(kept.kind == .run && kept.members == [0, 1])
    }

    @Test("fewer than MIN nodes left, or no restart left: the job fails naming the last failure")
    func failures() {
        let plan = Self.round([0, 1])
        let gone = [1: "stopped heartbeating for 6.0 s"]
        let blame = ElasticRendezvous.blame(plan, reports: [], gone: gone, names: Self.names)
        let tooFew = ElasticRendezvous.next(after: plan, blame: blame, gone: gone, waiting: [], master: 0,
                                            policy: Self.policy(2, 2, restarts: 5), port: 1, names: Self.names)
        #expect(tooFew.kind == .failed && tooFew.reason.contains("needs at least 2") && tooFew.reason.contains("heartbeating"), "\(tooFew.reason)")
        let spent = Self.round([0, 1], restart: 2)
        let exhausted = ElasticRendezvous.next(after: spent, blame: blame, gone: gone, waiting: [], master: 0,
                                               policy: Self.policy(1, 2, restarts: 2), port: 1, names: Self.names)
        #expect(exhausted.kind == .failed && exhausted.reason.contains("--max-restarts 2") && exhausted.reason.contains("node 1 stopped"),
                "\(exhausted.reason)")
    }

    @Test("the first round: master first, then by requested node rank, at most MAX")
    func firstRound() {
        let nodes = [NodeInfo(id: 0, requestedRank: 0, address: "a", pid: 1, processCount: 2),
                     NodeInfo(id: 1, requestedRank: 2, address: "b", pid: 2, processCount: 2),
                     NodeInfo(id: 2, requestedRank: 1, address: "c", pid: 3, processCount: 2)]
        let plan = ElasticRendezvous.first(nodes: nodes, master: 0, processCount: 2, policy: Self.policy(1, 2, restarts: 0), port: 9)
        #expect(plan.members == [0, 2] && plan.worldSize == 4 && plan.restart == 0 && plan.kind == .run)
    }

    @Test("worker statuses: own faults and witnesses, with the signal named")
    func statuses() {
        let killed = RoundWorkers.status(.failure(.workerSignaled(rank: 3, signal: 9)), localRanks: 2..<4)
        #expect(killed == NodeStatus(state: .failed, culpritRank: 3, ownFault: true, detail: "rank 3 was killed by signal 9 (SIGKILL)"))
        let witness = RoundWorkers.status(.failure(.rankFailed(rank: 0, reason: "x")), localRanks: 2..<4)
        #expect(witness.culpritRank == 0 && !witness.ownFault)
        #expect(RoundWorkers.status(.success(()), localRanks: 0..<1).state == .succeeded)
    }
}
