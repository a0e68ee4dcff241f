import Foundation
import Testing
@testable import TridentCollectives
import TridentTestSupport

/// Forming a TCP job under hostile or misconfigured conditions: idle and garbage connections
/// to the listening ports, a wrong secret, a wrong world size, a rank that never comes.
@Suite("TCP backend: forming a job", .serialized)
struct TCPFormingTests {
    /// Opens a plain TCP connection to `port` on loopback.
    func connectRaw(_ port: Int) throws -> TCPSocket {
        try TCPSocket.connect(host: "127.0.0.1", port: port, deadline: TCPDeadline(after: .seconds(5)))
    }

    /// Whether the other end closes `socket` within `seconds` (reads EOF or an error).
    func closedByPeer(_ socket: TCPSocket, within seconds: Int) -> Bool {
        var byte = [UInt8](repeating: 0, count: 64)
        do {
            try byte.withUnsafeMutableBytes { try socket.receiveAll($0, deadline: TCPDeadline(after: .seconds(Int64(seconds)))) }
            return false
        } catch let error as TCPSocketError { return error.kind == .closed } catch { return false }
    }

    /// Starts world ranks `ranks` of a `size`-rank job on threads (store served by the caller).
    func startRanks(_ ranks: [Int], size: Int, port: Int, secret: String = "form",
                    forming: Duration? = nil, reports: URL? = nil) -> (DispatchGroup, ResultBox<Float>) {
        let results = ResultBox<Float>(count: size)
        let group = DispatchGroup()
        for rank in ranks {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                results.set(rank, Result {
                    var r = TCPRendezvous(rank: rank, worldSize: size, masterAddress: "127.0.0.1", masterPort: port,
                                          secret: secret, rankZeroServesStore: false, hostIdentity: "h\(rank)")
                    r.formingTimeout = forming
                    r.failureReportPath = reports?.appendingPathComponent("rank-\(rank)").path
                    let comm = try TCPCommunicator.connect(r)
                    defer { comm.close() }
                    var v: [Float] = [Float(rank + 1)]
                    try v.withUnsafeMutableBytes { try comm.allReduce($0, type: .float32, op: .sum) }
                    return v[0]
                })
            }
        }
        return (group, results)
    }

    @Test("7 idle and 3 garbage connections to rank 0's peer port delay forming by under 2 s; garbage is refused")
    func idleConnectionsToRankPort() throws {
        let store = try RendezvousStore(host: "127.0.0.1", port: 0, secret: "form")
        defer { store.stop() }
        let (rank0, results) = startRanks([0], size: 3, port: store.port)
        let spy = try RendezvousClient(host: "127.0.0.1", port: store.port, secret: "form", rank: 9, timeout: .seconds(10))
        let address = String(decoding: try spy.get("trident/addr/0"), as: UTF8.self)
        let port = Int(address.split(separator: ":")[1])!
        let idle = try (0..<7).map { _ in try connectRaw(port) }
        let garbage = try (0..<3).map { _ in try connectRaw(port) }
        for socket in garbage {
            try Array("GET / HTTP/1.0\r\n\r\nxxxxxxxxxxxxxxxx".utf8).withUnsafeBytes {
                try socket.sendAll($0, deadline: TCPDeadline(after: .seconds(5)))
            }
        }
        let started = ContinuousClock.now
        let (others, _) = startRanksInto(results, [1, 2], size: 3, port: store.port)
        others.wait()
        rank0.wait()
        let elapsed = ContinuousClock.now - started
        #expect(elapsed < .seconds(2), "forming took \(elapsed) with idle connections open")
        for rank in 0..<3 { #expect(try results.values[rank]!.get() == 6) }
        for socket in garbage { #expect(closedByPeer(socket, within: 5), "a garbage connection was not refused") }
        _ = idle
    }

    /// Like `startRanks`, writing into an existing result box.
    func startRanksInto(_ box: ResultBox<Float>, _ ranks: [Int], size: Int, port: Int) -> (DispatchGroup, ResultBox<Float>) {
        let (group, fresh) = startRanks(ranks, size: size, port: port)
        let merged = DispatchGroup()
        merged.enter()
        Thread.detachNewThread {
            group.wait()
            for rank in ranks { if let value = fresh.values[rank] { box.set(rank, value) } }
            merged.leave()
        }
        return (merged, box)
    }

    @Test("idle connections to the store do not delay forming")
    func idleConnectionsToStore() throws {
        let store = try RendezvousStore(host: "127.0.0.1", port: 0, secret: "form", worldSize: 3)
        defer { store.stop() }
        let idle = try (0..<7).map { _ in try connectRaw(store.port) }
        let started = ContinuousClock.now
        let (group, results) = startRanks([0, 1, 2], size: 3, port: store.port)
        group.wait()
        #expect(ContinuousClock.now - started < .seconds(2))
        for rank in 0..<3 { #expect(try results.values[rank]!.get() == 6) }
        _ = idle
    }

    @Test("a different secret fails the waiting ranks at once, saying so")
    func secretMismatch() throws {
        let store = try RendezvousStore(host: "127.0.0.1", port: 0, secret: "node0-secret", worldSize: 2)
        defer { store.stop() }
        let waiting = try RendezvousClient(host: "127.0.0.1", port: store.port, secret: "node0-secret", rank: 0,
                                           timeout: .seconds(30), worldSize: 2)
        let started = ContinuousClock.now
        Thread.detachNewThread {
            usleep(100_000)
            _ = try? RendezvousClient(host: "127.0.0.1", port: store.port, secret: "node1-secret", rank: 1,
                                      timeout: .seconds(5), worldSize: 2)
        }
        let error = #expect(throws: CollectiveError.self) { _ = try waiting.get("trident/addr/1") }
        #expect(error?.kind == .invalidArgument)
        #expect(error?.description.contains("rank 1") == true && error?.description.contains("different job secret") == true,
                "\(String(describing: error))")
        #expect(ContinuousClock.now - started < .seconds(3))
    }

    @Test("a different world size (--nnodes) is refused and fails the others at once")
    func worldSizeMismatch() throws {
        let store = try RendezvousStore(host: "127.0.0.1", port: 0, secret: "s", worldSize: 4)
        defer { store.stop() }
        let waiting = try RendezvousClient(host: "127.0.0.1", port: store.port, secret: "s", rank: 0,
                                           timeout: .seconds(30), worldSize: 4)
        let started = ContinuousClock.now
        let refused = #expect(throws: CollectiveError.self) {
            _ = try RendezvousClient(host: "127.0.0.1", port: store.port, secret: "s", rank: 4, timeout: .seconds(5), worldSize: 6)
        }
        #expect(refused?.description.contains("world of 6 ranks, rank 0 for 4") == true, "\(String(describing: refused))")
        let error = #expect(throws: CollectiveError.self) { _ = try waiting.get("trident/addr/1") }
        #expect(error?.description.contains("--nnodes") == true, "\(String(describing: error))")
        #expect(ContinuousClock.now - started < .seconds(3))
    }

    @Test("a rank that never comes fails forming at the forming deadline, naming it (and reporting it)")
    func formingDeadline() throws {
        let store = try RendezvousStore(host: "127.0.0.1", port: 0, secret: "form")
        defer { store.stop() }
        let reports = FileManager.default.temporaryDirectory.appendingPathComponent("trident-forming-\(UUID())")
        try FileManager.default.createDirectory(at: reports, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: reports) }
        let started = ContinuousClock.now
        let (group, results) = startRanks([0, 1], size: 3, port: store.port, forming: .seconds(1), reports: reports)
        group.wait()
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(5), "\(elapsed)")
        for rank in 0..<2 {
            let error = #expect(throws: CollectiveError.self) { try results.values[rank]!.get() }
            #expect(error?.kind == .timeout)
            #expect(error?.description.contains("rank 2 did not connect within the forming deadline of 1.0 s") == true,
                    "\(String(describing: error))")
            let report = FailureReport.read(from: reports.appendingPathComponent("rank-\(rank)").path)
            #expect(report?.blamed == 2 && report?.reporter == rank)
        }
    }

    @Test("a mesh reports its first failure for the launcher, blaming the peer that vanished")
    func failureReport() throws {
        let store = try RendezvousStore(host: "127.0.0.1", port: 0, secret: "form")
        defer { store.stop() }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("trident-report-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let peer = Thread {
            guard let comm = try? TCPCommunicator.connect(TCPRendezvous(rank: 1, worldSize: 2, masterAddress: "127.0.0.1",
                                                                        masterPort: store.port, secret: "form",
                                                                        rankZeroServesStore: false)) else { return }
            usleep(200_000)
            comm.abortConnectionsForTesting()
        }
        peer.start()
        var r = TCPRendezvous(rank: 0, worldSize: 2, masterAddress: "127.0.0.1", masterPort: store.port, secret: "form",
                              rankZeroServesStore: false)
        r.failureReportPath = path
        let comm = try TCPCommunicator.connect(r)
        var v: [Float] = [1]
        #expect(throws: CollectiveError.self) { try v.withUnsafeMutableBytes { try comm.allReduce($0, type: .float32, op: .sum) } }
        comm.close()
        let report = try #require(FailureReport.read(from: path))
        #expect(report.reporter == 0 && report.blamed == 1, "\(report)")
    }

    @Test("job segments are named by the job key and removed by it; other jobs' segments stay")
    func sharedMemoryCleanup() throws {
        let mine = SharedMemoryJob.jobKey(secret: "cleanup-\(UUID())", masterPort: 4242)
        let other = SharedMemoryJob.jobKey(secret: "other-\(UUID())", masterPort: 4242)
        let a = try SharedMemorySegment.create(name: SharedMemoryJob.name(jobKey: mine, groupID: 0), byteCount: 4096)
        let b = try SharedMemorySegment.create(name: SharedMemoryJob.name(jobKey: mine, groupID: 77), byteCount: 4096)
        let c = try SharedMemorySegment.create(name: SharedMemoryJob.name(jobKey: other, groupID: 0), byteCount: 4096)
        defer { c.unlink() }
        let removed = SharedMemoryJob.removeJobSegments(jobKey: mine)
        #expect(Set(removed) == [String(a.name.dropFirst()), String(b.name.dropFirst())])
        let left = try FileManager.default.contentsOfDirectory(atPath: "/dev/shm")
        #expect(!left.contains { $0.hasPrefix(SharedMemoryJob.jobPrefix(jobKey: mine)) })
        #expect(left.contains(String(c.name.dropFirst())))
    }
}
