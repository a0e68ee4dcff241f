import Foundation
import Testing
import TridentLauncher

@Suite("Launcher")
struct LauncherTests {
    @Test("WorkerEnvironment parses the launcher variables and rejects bad ones")
    func environment() throws {
        #expect(try WorkerEnvironment.from([:]) == nil)
        let env = WorkerEnvironment(rank: 3, worldSize: 4, localRank: 1, masterAddress: "10.0.0.1", masterPort: 29_500, secret: "s")
        #expect(try WorkerEnvironment.from(env.variables) == env)
        #expect(throws: LaunchError.self) { try WorkerEnvironment.from(["RANK": "4", "WORLD_SIZE": "4", "MASTER_PORT": "1"]) }
        #expect(throws: LaunchError.self) { try WorkerEnvironment.from(["RANK": "0", "WORLD_SIZE": "x", "MASTER_PORT": "1"]) }
        #expect(throws: LaunchError.self) { try WorkerEnvironment.from(["RANK": "0", "WORLD_SIZE": "2"]) }
    }

    @Test("multi-node numbering and configuration errors")
    func configuration() throws {
        let c = LaunchConfiguration(executable: "/bin/true", arguments: [], processCount: 4, nodeCount: 2, nodeRank: 1,
                                    masterAddress: "10.0.0.1", masterPort: 29_500)
        #expect(c.worldSize == 8)
        #expect(c.worldRank(localRank: 2) == 6)
        let noPort = LaunchConfiguration(executable: "/bin/true", arguments: [], processCount: 1, nodeCount: 2, secret: "s")
        #expect(throws: LaunchError.self) { try LocalLauncher(noPort).run() }
        #expect(throws: LaunchError.workerExited(rank: 0, status: 1)) {
            try LocalLauncher(LaunchConfiguration(executable: "/bin/false", arguments: [], processCount: 1)).run()
        }
        try LocalLauncher(LaunchConfiguration(executable: "/bin/true", arguments: [], processCount: 3)).run()
        try LocalLauncher(LaunchConfiguration(executable: "/bin/true", arguments: [], processCount: 2, directOutputRank: 0)).run()
    }

    @Test("trident launch sets rank variables and prefixes output", .enabled(if: tridentBinary != nil))
    func launchOutput() throws {
        let r = try runChild(tridentBinary!, ["launch", "--nproc", "3", "--", "/bin/sh", "-c",
                                              "echo hello $RANK/$WORLD_SIZE local $LOCAL_RANK; echo oops >&2"])
        #expect(r.status == 0, "\(r.output)")
        for rank in 0..<3 {
            #expect(r.output.contains("[rank \(rank)] hello \(rank)/3 local \(rank)\n"), "\(r.output)")
            #expect(r.output.contains("[rank \(rank)] oops\n"))
        }
    }

    @Test("--direct-output-rank passes that rank's stdout through unprefixed; stderr stays prefixed",
          .enabled(if: tridentBinary != nil))
    func directOutput() throws {
        let r = try runChild(tridentBinary!, ["launch", "--nproc", "2", "--direct-output-rank", "0", "--", "/bin/sh", "-c",
                                              "printf 'tok%s\\n' $RANK; echo warn$RANK >&2"])
        #expect(r.status == 0, "\(r.output)")
        // One write per line, so lines of different ranks cannot interleave mid-line.
        #expect(r.output.split(separator: "\n").contains("tok0"), "\(r.output)")
        #expect(!r.output.contains("[rank 0] tok0"), "\(r.output)")
        #expect(r.output.contains("[rank 1] tok1\n"), "\(r.output)")
        #expect(r.output.contains("[rank 0] warn0\n"), "\(r.output)")
    }

    @Test("a failing rank stops the others and is named", .enabled(if: tridentBinary != nil))
    func launchFailure() throws {
        let r = try runChild(tridentBinary!, ["launch", "--nproc", "3", "--", "/bin/sh", "-c",
                                              "if [ $RANK = 1 ]; then sleep 0.2; exit 7; fi; exec sleep 60"])
        #expect(r.status == 1)
        #expect(r.output.contains("rank 1 exited with status 7"), "\(r.output)")
        #expect(r.seconds < 20, "the sleeping ranks were not stopped: \(r.seconds) s")
        let killed = try runChild(tridentBinary!, ["launch", "--nproc", "3", "--", "trident", "collective-selftest",
                                                   "--kill-rank", "2"])
        #expect(killed.status == 1)
        #expect(killed.output.contains("rank 2 was killed by signal 9"), "\(killed.output)")
    }
}
