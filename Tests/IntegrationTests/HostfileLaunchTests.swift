import Foundation
import Testing
import TridentLauncher

/// `trident launch --hostfile` end to end on this machine: one host, and two "nodes" (two
/// launchers on 127.0.0.1 and 127.0.0.2) with uneven slots, one using torchrun's spellings.
@Suite("trident launch --hostfile", .enabled(if: tridentBinary != nil, "needs the trident binary"))
struct HostfileLaunchTests {
    /// Writes `text` to a hostfile in `directory`.
    static func hostfile(_ text: String, in directory: URL) throws -> String {
        let path = directory.appendingPathComponent("hosts").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("one host with 2 slots: this node finds itself by 127.0.0.1 and runs 2 ranks")
    func oneHost() throws {
        try withTemporaryDirectory { directory in
            let hosts = try Self.hostfile("# one machine\n127.0.0.1 slots=2\n", in: directory)
            let result = try runChild(tridentBinary!, ["launch", "--hostfile", hosts, "--", "trident", "collective-selftest",
                                                       "--counts", "1,4097"], timeout: 60)
            #expect(result.status == 0, "\(result.output)")
            for rank in 0..<2 {
                #expect(result.output.contains("[rank \(rank)] selftest ok: rank \(rank) of 2"), "\(result.output)")
            }
        }
    }

    @Test("two nodes with 1 and 2 slots form one job of 3; ranks in file order; torchrun spellings on node 1")
    func unevenNodes() throws {
        try withTemporaryDirectory { directory in
            let hosts = try Self.hostfile("127.0.0.1 slots=1\n127.0.0.2 slots=2\n", in: directory)
            let port = String(ServeCLITests.freePort())
            let program = ["--", "trident", "collective-selftest", "--counts", "1,4097"]
            let environment = ["TRIDENT_SECRET": "hostfile-test-\(UUID())"]
            // Node 0 finds its line by its address; node 1 (127.0.0.2 is not an interface address) is told.
            let node0 = try Child(tridentBinary!, ["launch", "--hostfile", hosts, "--master-port", port] + program,
                                  environment: environment)
            let node1 = try Child(tridentBinary!, ["launch", "--hostfile", hosts, "--node-rank", "1",
                                                   "--rdzv-endpoint", "127.0.0.1:\(port)", "--rdzv-backend", "c10d",
                                                   "--rdzv-id", "job-7"] + program, environment: environment)
            let results = [node0.finish(timeout: 60), node1.finish(timeout: 60)]
            for (node, ranks) in [(0, [0]), (1, [1, 2])] {
                #expect(results[node].status == 0, "node \(node): \(results[node].output)")
                for rank in ranks {
                    #expect(results[node].output.contains("[rank \(rank)] selftest ok: rank \(rank) of 3"),
                            "node \(node): \(results[node].output)")
                }
                #expect(results[node].output.components(separatedBy: "selftest ok").count - 1 == ranks.count)
            }
        }
    }

    @Test("a bad hostfile or an unsupported rendezvous backend ends with one line naming the problem")
    func refusals() throws {
        try withTemporaryDirectory { directory in
            let hosts = try Self.hostfile("127.0.0.1 slots=2\n127.0.0.1\n", in: directory)
            let duplicate = try runCLI(["launch", "--hostfile", hosts, "--", "/bin/true"])
            #expect(duplicate.status != 0 && duplicate.stderrLines.count == 1, "\(duplicate.transcript)")
            #expect(duplicate.stderr.contains("hostfile \(hosts) line 2: duplicate host '127.0.0.1' (first on line 1)"),
                    "\(duplicate.transcript)")
            let etcd = try runCLI(["launch", "--rdzv-backend", "etcd", "--", "/bin/true"])
            #expect(etcd.status != 0 && etcd.stderrLines.count == 1, "\(etcd.transcript)")
            #expect(etcd.stderr.contains("--rdzv-backend etcd is not supported"), "\(etcd.transcript)")
            // Documentation addresses (RFC 5737) that are not this machine's (some sandboxes use 192.0.2.x).
            let others = ["203.0.113.7", "198.51.100.7", "192.0.2.213", "203.0.113.8"].filter { !HostAddress.interfaceAddresses().contains($0) }
            let stranger = try Self.hostfile("\(others[0])\n\(others[1])\n", in: directory)
            let lost = try runCLI(["launch", "--hostfile", stranger, "--", "/bin/true"])
            #expect(lost.status != 0 && lost.stderr.contains("is none of its 2 hosts; give --node-rank"), "\(lost.transcript)")
        }
    }
}
