import Foundation
import Testing
import TridentLauncher

@Suite("TCP backend across real processes (trident collective-selftest)", .serialized,
       .enabled(if: tridentBinary != nil, "needs the trident binary built next to the tests"))
struct TCPProcessTests {
    @Test("every collective is correct across processes", arguments: [1, 2, 3, 5])
    func selfTest(processes: Int) throws {
        let result = try runChild(tridentBinary!, ["collective-selftest", "--nproc", String(processes),
                                                   "--counts", "0,1,7,4097,70001"])
        #expect(result.status == 0, "\(result.output)")
        let oks = result.output.split(separator: "\n").filter { $0.contains("selftest ok") }
        #expect(oks.count == processes, "\(result.output)")
        let path = processes == 1 ? "none" : "shared-memory"   // same host: all-reduce goes through shm
        for rank in 0..<processes {
            #expect(result.output.contains("[rank \(rank)] selftest ok: rank \(rank) of \(processes), counts [0, 1, 7, 4097, 70001], allReduce via \(path)"))
        }
    }

    @Test("with distinct TRIDENT_HOST_ID the same collectives run over TCP")
    func selfTestOverTCP() throws {
        let result = try runChild(tridentBinary!, ["launch", "--nproc", "3", "--", "/bin/sh", "-c",
                                                   "TRIDENT_HOST_ID=host$RANK exec \(tridentBinary!) collective-selftest --counts 1,70001"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.components(separatedBy: "allReduce via ring").count == 4, "\(result.output)")
    }

    @Test("two launchers (--nnodes 2) number ranks node_rank * nproc + local and form one world")
    func twoNodeLaunch() throws {
        let nodes = try (0..<2).map { node in
            try Child(tridentBinary!, ["launch", "--nnodes", "2", "--node-rank", String(node), "--nproc", "2",
                                       "--master-port", "29633", "--", "trident", "collective-selftest", "--counts", "1,4097"],
                      environment: ["TRIDENT_SECRET": "two-node-secret"])
        }
        let results = nodes.map { $0.finish(timeout: 60) }
        for (node, result) in results.enumerated() {
            #expect(result.status == 0, "\(result.output)")
            for local in 0..<2 {
                let rank = node * 2 + local
                #expect(result.output.contains("[rank \(rank)] selftest ok: rank \(rank) of 4"), "\(result.output)")
            }
        }
    }

    /// Starts `size` workers directly (not via the launcher, which would stop the survivors).
    func startWorkers(_ size: Int, port: Int, arguments: [String]) throws -> [Child] {
        try (0..<size).map { rank in
            let env = WorkerEnvironment(rank: rank, worldSize: size, localRank: rank, masterAddress: "127.0.0.1",
                                        masterPort: port, secret: "integration-secret")
            return try Child(tridentBinary!, ["collective-selftest"] + arguments, environment: env.variables)
        }
    }

    @Test("a rank killed mid-allReduce makes every other rank fail within 10 s, naming it")
    func killedRank() throws {
        let workers = try startWorkers(4, port: 29_631, arguments: ["--kill-rank", "2"])
        let results = workers.map { $0.finish(timeout: 60) }
        #expect(results[2].signaled && results[2].status == SIGKILL)
        for rank in [0, 1, 3] {
            let r = results[rank]
            #expect(r.status == 3, "rank \(rank): \(r.output)")
            #expect(r.output.contains("rank \(rank): allReduce in group world failed: peer rank 2"), "\(r.output)")
            #expect(r.output.contains("afterwards: poisoned"), "\(r.output)")
            #expect(r.seconds < 10, "rank \(rank) took \(r.seconds) s")
        }
    }

    @Test("a frozen rank (SIGSTOP, no heartbeats) is reported after the liveness timeout")
    func frozenRank() throws {
        let workers = try startWorkers(3, port: 29_632, arguments: ["--hang-rank", "1", "--liveness", "2"])
        let survivors = [0, 2].map { workers[$0].finish(timeout: 30) }
        kill(workers[1].process.processIdentifier, SIGKILL)
        _ = workers[1].finish(timeout: 10)
        for r in survivors {
            #expect(r.status == 3, "\(r.output)")
            #expect(r.output.contains("peer rank 1"), "\(r.output)")
            #expect(r.seconds < 10, "took \(r.seconds) s")
        }
    }
}
