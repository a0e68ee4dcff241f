import Testing
@testable import TridentLauncher

@Suite("Launch options: hostfile, torchrun spellings, default ports")
struct LaunchRequestTests {
    /// An identity that is `name` and nothing else (no resolver).
    static func node(_ name: String) -> NodeIdentity {
        var identity = NodeIdentity(names: [name], addresses: [])
        identity.resolve = { _ in [] }
        return identity
    }

    static func request(_ edit: (inout LaunchRequest) -> Void) -> LaunchRequest { makeRequest(edit) }

    static func message(_ request: LaunchRequest, identity: NodeIdentity = node("nobody")) -> String {
        do { _ = try request.topology(identity: identity); return "" } catch { return error.description }
    }

    @Test("no options: one process on one node, a free port on 127.0.0.1 (as --standalone)")
    func defaults() throws {
        let expected = LaunchTopology(processCount: 1, nodeCount: 1, nodeRank: 0, masterAddress: "127.0.0.1", masterPort: 0)
        #expect(try LaunchRequest().topology(identity: Self.node("x")) == expected)
        #expect(try Self.request { $0.standalone = true }.topology(identity: Self.node("x")) == expected)
        #expect(try Self.request { $0.standalone = true; $0.nprocPerNode = 3 }.topology(identity: Self.node("x")).processCount == 3)
    }

    @Test("the port of a multi-node job defaults to 29500; one node picks a free port; a given port is kept")
    func defaultPorts() throws {
        #expect(try Self.request { $0.nnodes = 2; $0.nodeRank = 1 }.topology(identity: Self.node("x")).masterPort == 29_500)
        #expect(try Self.request { $0.nnodes = 1 }.topology(identity: Self.node("x")).masterPort == 0)
        #expect(try Self.request { $0.nnodes = 2; $0.masterPort = 1234 }.topology(identity: Self.node("x")).masterPort == 1234)
        let two = try Hostfile(text: "127.0.0.1 slots=2\n127.0.0.2 slots=1\n", path: "h")
        #expect(try Self.request { $0.hostfile = two; $0.nodeRank = 1 }.topology(identity: Self.node("x")).masterPort == 29_500)
        let one = try Hostfile(text: "127.0.0.1 slots=2\n", path: "h")
        #expect(try Self.request { $0.hostfile = one; $0.nodeRank = 0 }.topology(identity: Self.node("x")).masterPort == 0)
    }

    @Test("torchrun spellings map onto the launcher's fields")
    func torchrunSpellings() throws {
        let endpoint = try Self.request {
            $0.nprocPerNode = 4; $0.nnodes = 2; $0.nodeRank = 1; $0.rendezvousEndpoint = "10.1.2.3:1234"
            $0.rendezvousBackend = "c10d"
        }.topology(identity: Self.node("x"))
        #expect(endpoint == LaunchTopology(processCount: 4, nodeCount: 2, nodeRank: 1, masterAddress: "10.1.2.3", masterPort: 1234))
        let noPort = try Self.request { $0.nnodes = 3; $0.rendezvousEndpoint = "10.1.2.3"; $0.rendezvousBackend = "C10D" }
            .topology(identity: Self.node("x"))
        #expect(noPort.masterAddress == "10.1.2.3" && noPort.masterPort == 29_500 && noPort.nodeRank == 0)
        let named = try Self.request { $0.rendezvousEndpoint = "localhost:2000" }.topology(identity: Self.node("x"))
        #expect(named.masterAddress == "127.0.0.1" && named.masterPort == 2000)
        #expect(try Self.request { $0.nproc = 2; $0.nprocPerNode = 2 }.topology(identity: Self.node("x")).processCount == 2)
    }

    @Test("contradictions and unsupported values are refused with one line naming the options",
          arguments: [
              (makeRequest { $0.rendezvousBackend = "etcd" }, "--rdzv-backend etcd is not supported"),
              (makeRequest { $0.rendezvousBackend = "static" }, "--rdzv-backend static is not supported"),
              (makeRequest { $0.nproc = 2; $0.nprocPerNode = 3 }, "--nproc 2 and --nproc-per-node 3 disagree"),
              (makeRequest { $0.nprocPerNode = 0 }, "--nproc must be >= 1, got 0"),
              (makeRequest { $0.rendezvousEndpoint = "a:1"; $0.masterPort = 2 }, "either --rdzv-endpoint or --master-addr/--master-port"),
              (makeRequest { $0.rendezvousEndpoint = "a:99999" }, "--rdzv-endpoint port must be in 1...65535, got '99999'"),
              (makeRequest { $0.rendezvousEndpoint = "[::1]:29500" }, "--rdzv-endpoint must be host or host:port"),
              (makeRequest { $0.rendezvousEndpoint = ":29500" }, "--rdzv-endpoint must be host or host:port"),
              (makeRequest { $0.standalone = true; $0.nnodes = 2 }, "--standalone runs one node on a free local port; it cannot be combined with --nnodes"),
              (makeRequest { $0.standalone = true; $0.masterAddress = "10.0.0.1" }, "cannot be combined with --master-addr"),
              (makeRequest { $0.nnodes = 2; $0.nodeRank = 2 }, "--node-rank 2 is outside the 2 node(s) of the job"),
              (makeRequest { $0.masterAddress = "no-such-host.invalid" }, "master address 'no-such-host.invalid' does not resolve to an IPv4 address"),
          ])
    func refused(request: LaunchRequest, expected: String) {
        let error = Self.message(request)
        #expect(error.contains(expected), "\(error)")
        #expect(!error.contains("\n"))
    }

    @Test("a hostfile gives the node count, this node's rank and slots, and the master's IPv4 address")
    func hostfile() throws {
        let file = try Hostfile(text: "localhost slots=2\nnode1 slots=3\nnode2\n", path: "hosts")
        let second = try Self.request { $0.hostfile = file }.topology(identity: Self.node("node1.example"))
        #expect(second == LaunchTopology(processCount: 3, nodeCount: 3, nodeRank: 1, nodeProcessCounts: [2, 3, 1],
                                         masterAddress: "127.0.0.1", masterPort: 29_500))
        // --nproc overrides every host's slots; --node-rank overrides the search.
        let forced = try Self.request { $0.hostfile = file; $0.nproc = 4; $0.nodeRank = 2 }.topology(identity: Self.node("node1"))
        #expect(forced == LaunchTopology(processCount: 4, nodeCount: 3, nodeRank: 2, masterAddress: "127.0.0.1", masterPort: 29_500))
        // An explicit endpoint replaces the first host's address (another interface of node 0).
        let endpoint = try Self.request { $0.hostfile = file; $0.rendezvousEndpoint = "10.9.9.9:3000" }
            .topology(identity: Self.node("node2"))
        #expect(endpoint.masterAddress == "10.9.9.9" && endpoint.masterPort == 3000 && endpoint.nodeRank == 2)
        for (edit, expected) in [({ (r: inout LaunchRequest) in r.nnodes = 2 }, "--nnodes 2 disagrees with the 3 host(s) of hostfile hosts"),
                                 ({ (r: inout LaunchRequest) in r.nodeRank = 3 }, "--node-rank 3 is outside the 3 host(s) of hostfile hosts"),
                                 ({ (r: inout LaunchRequest) in r.standalone = true }, "cannot be combined with --hostfile"),
                                 ({ (r: inout LaunchRequest) in _ = r }, "hostfile hosts: this node (stranger")] {
            var request = Self.request { $0.hostfile = file }
            edit(&request)
            let error = Self.message(request, identity: Self.node("stranger"))
            #expect(error.contains(expected), "\(error)")
        }
    }
}

/// A request with the options `edit` sets.
private func makeRequest(_ edit: (inout LaunchRequest) -> Void) -> LaunchRequest {
    var request = LaunchRequest()
    edit(&request)
    return request
}
