import Foundation
import Testing
@testable import TridentLauncher

@Suite("Hostfile parsing and node ranks")
struct HostfileTests {
    /// The message of the error `body` throws ("" when it throws none).
    static func message(_ body: () throws -> Void) -> String {
        do { try body(); return "" } catch { return "\(error)" }
    }

    @Test("hosts, slots (default 1), comments, blank lines, tabs, CRLF and max_slots")
    func parses() throws {
        let text = "# cluster\n\nnode0 slots=4   # master\r\n\tnode1\tslots=2 max_slots=8\n10.0.0.7\n   # end\n"
        let file = try Hostfile(text: text, path: "h.txt")
        #expect(file.hosts == [Hostfile.Host(name: "node0", slots: 4, line: 3), Hostfile.Host(name: "node1", slots: 2, line: 4),
                               Hostfile.Host(name: "10.0.0.7", slots: 1, line: 5)])
        #expect(file.slots == [4, 2, 1])
        #expect((0..<3).map(file.firstRank(ofNode:)) == [0, 4, 6])
    }

    @Test("malformed files are refused with one line naming the file and the line",
          arguments: [
              ("a slots=2\nb\nA slots=1\n", "line 3: duplicate host 'A' (first on line 1)"),
              ("a slots=0\n", "line 1: slots must be an integer in 1...4096, found '0'"),
              ("a\n\nb slots=x\n", "line 3: slots must be an integer in 1...4096, found 'x'"),
              ("a slots=-1\n", "line 1: slots must be"),
              ("a slots=5000\n", "line 1: slots must be"),
              ("a slots=1 slots=2\n", "line 1: slots= is given twice"),
              ("a cpus=2\n", "line 1: expected 'slots=N' after the host, found 'cpus=2'"),
              ("a slots 2\n", "line 1: expected 'slots=N' after the host, found 'slots'"),
              ("# only\n\n  # comments\n", "line 1: no hosts"),
              ("", "line 1: no hosts"),
              ("no/de slots=1\n", "line 1: 'no/de' is not a host name or address"),
              ("slots=2\n", "line 1: 'slots=2' is not a host name or address"),
          ])
    func refused(text: String, expected: String) {
        let error = Self.message { _ = try Hostfile(text: text, path: "/tmp/hosts") }
        #expect(error.contains("hostfile /tmp/hosts \(expected)"), "\(error)")
        #expect(!error.contains("\n"))
    }

    @Test("a file that cannot be read is named")
    func unreadable() {
        let error = Self.message { _ = try Hostfile(contentsOf: "/nonexistent/hosts") }
        #expect(error.contains("cannot read hostfile /nonexistent/hosts"), "\(error)")
    }

    @Test("node rank by host name, full or short, in either direction")
    func rankByName() throws {
        let file = try Hostfile(text: "node0.cluster slots=2\nnode1 slots=2\nnode2.cluster\n", path: "h")
        let noResolver = { (identity: NodeIdentity) -> NodeIdentity in
            var copy = identity
            copy.resolve = { _ in [] }
            return copy
        }
        #expect(try noResolver(NodeIdentity(names: ["node0"], addresses: [])).nodeRank(in: file) == 0)
        #expect(try noResolver(NodeIdentity(names: ["node1.cluster"], addresses: [])).nodeRank(in: file) == 1)
        #expect(try noResolver(NodeIdentity(names: ["NODE2.cluster"], addresses: ["10.0.0.9"])).nodeRank(in: file) == 2)
        let none = Self.message { _ = try noResolver(NodeIdentity(names: ["other"], addresses: ["10.0.0.9"])).nodeRank(in: file) }
        #expect(none.contains("hostfile h: this node (other; 10.0.0.9) is none of its 3 hosts; give --node-rank"), "\(none)")
        let twice = try Hostfile(text: "node1.a\nnode1.b\n", path: "h2")
        let several = Self.message { _ = try noResolver(NodeIdentity(names: ["node1"], addresses: [])).nodeRank(in: twice) }
        #expect(several.contains("matches several hosts, node1.a (line 1), node1.b (line 2); give --node-rank"), "\(several)")
    }

    @Test("this machine finds itself by 127.0.0.1, by its host name and by a name resolving to its address")
    func rankOfThisMachine() throws {
        let me = NodeIdentity.current()
        #expect(me.addresses.contains("127.0.0.1"), "getifaddrs: \(me.addresses)")
        // Documentation addresses (RFC 5737) that are not this machine's (some sandboxes use 192.0.2.x).
        let others = ["203.0.113.7", "198.51.100.7", "192.0.2.213", "203.0.113.8"].filter { !me.addresses.contains($0) }
        let (a, b) = (others[0], others[1])
        #expect(try me.nodeRank(in: Hostfile(text: "\(a) slots=2\n127.0.0.1 slots=3\n", path: "h")) == 1)
        var buffer = [CChar](repeating: 0, count: 256)
        #expect(gethostname(&buffer, buffer.count) == 0)
        let hostname = String(cString: buffer)
        #expect(try me.nodeRank(in: Hostfile(text: "\(a)\n\(b)\n\(hostname)\n", path: "h")) == 2)
        #expect(try me.nodeRank(in: Hostfile(text: "\(a)\nlocalhost slots=2\n", path: "h")) == 1)
        let none = Self.message { _ = try me.nodeRank(in: Hostfile(text: "\(a)\n\(b)\n", path: "h")) }
        #expect(none.contains("is none of its 2 hosts; give --node-rank"), "\(none)")
    }

    @Test("uneven slots: every world rank exactly once, in file order, node by node")
    func unevenRanks() throws {
        let file = try Hostfile(text: "a slots=1\nb slots=3\nc slots=2\nd\n", path: "h")
        var expected = 0
        for node in file.hosts.indices {
            let configuration = LaunchConfiguration(executable: "/bin/true", arguments: [], processCount: file.hosts[node].slots,
                                                    nodeCount: 4, nodeRank: node)
            var uneven = configuration
            uneven.nodeProcessCounts = file.slots
            #expect(uneven.worldSize == 7)
            #expect(uneven.worldRank(localRank: 0) == file.firstRank(ofNode: node))
            for local in 0..<file.hosts[node].slots {
                #expect(uneven.worldRank(localRank: local) == expected, "node \(node) local \(local)")
                expected += 1
            }
        }
        #expect(expected == 7)
        // Equal counts give the same ranks as the uniform formula.
        var uniform = LaunchConfiguration(executable: "/bin/true", arguments: [], processCount: 3, nodeCount: 3, nodeRank: 2)
        let plain = (0..<3).map(uniform.worldRank(localRank:))
        uniform.nodeProcessCounts = [3, 3, 3]
        #expect((0..<3).map(uniform.worldRank(localRank:)) == plain && plain == [6, 7, 8])
    }

    @Test("the launcher refuses per-node counts that do not fit the node")
    func unevenValidation() {
        var c = LaunchConfiguration(executable: "/bin/true", arguments: [], processCount: 2, nodeCount: 2, nodeRank: 1,
                                    masterPort: 29_999, secret: "s")
        c.nodeProcessCounts = [1, 3]
        let error = Self.message { try LocalLauncher(c).run() }
        #expect(error.contains("per-node process counts [1, 3] do not fit 2 nodes with 2 on node 1"), "\(error)")
    }
}
