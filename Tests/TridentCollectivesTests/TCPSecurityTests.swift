import Foundation
import Testing
@testable import TridentCollectives
import TridentTestSupport

@Suite("TCP backend: authentication, framing, faults", .serialized)
struct TCPSecurityTests {
    @Test("frame headers round-trip; bad magic, version, kind and length are rejected naming the peer")
    func frameValidation() throws {
        let header = FrameHeader(kind: .data, groupID: 42, tag: -7, payloadLength: 1_000)
        let bytes = header.encoded
        #expect(try bytes.withUnsafeBytes { try FrameHeader.decode($0, peer: "rank 1") } == header)
        func corrupt(_ offset: Int, _ value: UInt8) -> FrameError? {
            var b = bytes
            b[offset] = value
            do { _ = try b.withUnsafeBytes { try FrameHeader.decode($0, peer: "rank 3") }; return nil } catch let e as FrameError { return e } catch { return nil }
        }
        #expect(corrupt(0, 0x00)?.detail.contains("magic") == true)
        #expect(corrupt(4, 9)?.detail.contains("version") == true)
        #expect(corrupt(6, 99)?.detail.contains("unknown frame kind 99") == true)
        #expect(corrupt(31, 0xFF)?.detail.contains("exceeds the limit") == true)
        #expect(corrupt(0, 0)?.description.hasPrefix("malformed frame from rank 3") == true)
        var heartbeat = FrameHeader(kind: .heartbeat).encoded
        heartbeat[24] = 1
        #expect(throws: FrameError.self) { try heartbeat.withUnsafeBytes { try FrameHeader.decode($0, peer: "x") } }
        #expect(throws: FrameError.self) { try [UInt8](repeating: 0, count: 10).withUnsafeBytes { try FrameHeader.decode($0, peer: "x") } }
    }

    @Test("the store refuses a wrong secret and serves set/get/add to the right one")
    func storeAuthentication() throws {
        let store = try RendezvousStore(host: "127.0.0.1", port: 0, secret: "right")
        defer { store.stop() }
        let refused = #expect(throws: CollectiveError.self) {
            _ = try RendezvousClient(host: "127.0.0.1", port: store.port, secret: "wrong", rank: 1, timeout: .seconds(5))
        }
        #expect(refused?.kind == .authenticationFailed)
        let client = try RendezvousClient(host: "127.0.0.1", port: store.port, secret: "right", rank: 0, timeout: .seconds(5))
        try client.set("k", [1, 2, 3])
        #expect(try client.get("k") == [1, 2, 3])
        #expect(try client.add("n", 5) == 5)
        #expect(try client.add("n", -2) == 3)
        // A get waits for a later set from another client.
        let other = try RendezvousClient(host: "127.0.0.1", port: store.port, secret: "right", rank: 1, timeout: .seconds(5))
        Thread.detachNewThread { usleep(100_000); try? other.set("late", [9]) }
        #expect(try client.get("late") == [9])
    }

    @Test("garbage instead of a hello is dropped by the store")
    func storeGarbage() throws {
        let store = try RendezvousStore(host: "127.0.0.1", port: 0, secret: "right")
        defer { store.stop() }
        let socket = try TCPSocket.connect(host: "127.0.0.1", port: store.port, deadline: TCPDeadline(after: .seconds(5)))
        try Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n__padding__".utf8).withUnsafeBytes {
            try socket.sendAll($0, deadline: TCPDeadline(after: .seconds(5)))
        }
        var reply = [UInt8](repeating: 0, count: 1)
        #expect(throws: TCPSocketError.self) {
            try reply.withUnsafeMutableBytes { try socket.receiveAll($0, deadline: TCPDeadline(after: .seconds(5))) }
        }
    }

    /// An intruder reads rank 0's address from the store, then talks to rank 0 directly.
    func intrude(store: RendezvousStore, secret: String) throws -> FrameConnection {
        let client = try RendezvousClient(host: "127.0.0.1", port: store.port, secret: "job", rank: 1, timeout: .seconds(10))
        try client.set("trident/host/1", Array("intruder-host".utf8))
        let address = String(decoding: try client.get("trident/addr/0"), as: UTF8.self)
        let port = Int(address.split(separator: ":")[1])!
        let socket = try TCPSocket.connect(host: "127.0.0.1", port: port, deadline: TCPDeadline(after: .seconds(5)))
        let connection = FrameConnection(socket: socket, peerName: "rank 0")
        try connection.send(FrameHeader(kind: .hello, tag: 1), bytes: TCPAuthentication(secret: secret).token,
                            deadline: TCPDeadline(after: .seconds(5)))
        return connection
    }

    @Test("a peer with the wrong secret is refused; the real rank still joins")
    func meshRefusesWrongSecret() throws {
        let store = try RendezvousStore(host: "127.0.0.1", port: 0, secret: "job")
        defer { store.stop() }
        let result = ResultBox<Float>(count: 1)
        let done = DispatchGroup()
        done.enter()
        Thread.detachNewThread {
            defer { done.leave() }
            result.set(0, Result {
                let comm = try TCPCommunicator.connect(TCPRendezvous(rank: 0, worldSize: 2, masterAddress: "127.0.0.1",
                                                                     masterPort: store.port, secret: "job", rankZeroServesStore: false))
                defer { comm.close() }
                var v: [Float] = [1.5]
                try v.withUnsafeMutableBytes { try comm.allReduce($0, type: .float32, op: .sum) }
                return v[0]
            })
        }
        let intruder = try intrude(store: store, secret: "guess")
        #expect(throws: TCPSocketError.self) { _ = try intruder.receiveHeader(deadline: TCPDeadline(after: .seconds(5))) }
        let rank1 = try TCPCommunicator.connect(TCPRendezvous(rank: 1, worldSize: 2, masterAddress: "127.0.0.1",
                                                             masterPort: store.port, secret: "job", rankZeroServesStore: false))
        var v: [Float] = [2]
        try v.withUnsafeMutableBytes { try rank1.allReduce($0, type: .float32, op: .sum) }
        rank1.close()
        done.wait()
        #expect(v == [3.5])
        #expect(try result.values[0]!.get() == 3.5)
    }

    @Test("a malformed frame from an authenticated peer fails the op with protocolViolation naming it")
    func meshRejectsMalformedFrame() throws {
        let store = try RendezvousStore(host: "127.0.0.1", port: 0, secret: "job")
        defer { store.stop() }
        let result = ResultBox<CollectiveError?>(count: 1)
        let done = DispatchGroup()
        done.enter()
        Thread.detachNewThread {
            defer { done.leave() }
            result.set(0, Result {
                let comm = try TCPCommunicator.connect(TCPRendezvous(rank: 0, worldSize: 2, masterAddress: "127.0.0.1",
                                                                     masterPort: store.port, secret: "job", rankZeroServesStore: false))
                defer { comm.close() }
                var v: [Float] = [1]
                do { try v.withUnsafeMutableBytes { try comm.allReduce($0, type: .float32, op: .sum) } } catch let e as CollectiveError { return e }
                return nil
            })
        }
        let fake = try intrude(store: store, secret: "job")
        #expect(try fake.receiveHeader(deadline: TCPDeadline(after: .seconds(5))).kind == .welcome)
        var bad = FrameHeader(kind: .data, tag: -1, payloadLength: 4).encoded
        bad[0] = 0x58
        try bad.withUnsafeBytes { try fake.socket.sendAll($0, deadline: TCPDeadline(after: .seconds(5))) }
        done.wait()
        let error = try #require(try result.values[0]!.get())
        #expect(error.kind == .protocolViolation)
        #expect(error.peer == 1)
        #expect(error.description.contains("bad frame magic"))
    }

    /// `warmUp`: one all-reduce first, so the failing one waits inside the shared-memory path.
    @Test("a rank that drops its connections mid-collective: the others fail within the liveness bound, then are poisoned",
          arguments: [false, true])
    func droppedRank(warmUp: Bool) throws {
        let results = try withTCPWorld(3, close: false) { comm -> String in
            if warmUp {
                var w: [Float] = [1]
                try w.withUnsafeMutableBytes { try comm.allReduce($0, type: .float32, op: .sum) }
                guard w == [3], comm.lastAlgorithm == "shared-memory" else { return "warm-up wrong: \(w) \(comm.lastAlgorithm)" }
            }
            if comm.rank == 1 {
                usleep(200_000)
                comm.abortConnectionsForTesting()
                return "aborted"
            }
            let start = ContinuousClock.now
            var v = [Float](repeating: 1, count: 100)
            do {
                try v.withUnsafeMutableBytes { try comm.allReduce($0, type: .float32, op: .sum) }
                return "no error"
            } catch let error as CollectiveError {
                let quick = ContinuousClock.now - start < .seconds(10)
                let poisoned = (try? comm.barrier()) == nil
                comm.close()
                return "\(error.kind) peer=\(error.peer.map(String.init) ?? "-") quick=\(quick) poisoned=\(poisoned) op=\(error.operation)"
            }
        }
        #expect(results[0] == "peerDisconnected peer=1 quick=true poisoned=true op=allReduce")
        #expect(results[2] == "peerDisconnected peer=1 quick=true poisoned=true op=allReduce")
    }
}
