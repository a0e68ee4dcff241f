import Foundation

/// The first failure seen by a mesh, in world-rank terms (communicators translate it).
struct TCPMeshFailure: Sendable {
    var kind: CollectiveError.Kind
    var worldPeer: Int?
    var detail: String
}

/// Fully connected TCP connections between all world ranks, shared by the world
/// communicator and every communicator `split` from it.
///
/// One receiver thread per peer drains its socket into a mailbox keyed by
/// (peer, group, tag), so two ranks that send large buffers to each other never deadlock,
/// and heartbeats/EOF are noticed while the owner is busy elsewhere.
final class TCPMesh: @unchecked Sendable {
    struct MailboxKey: Hashable { var peer: Int; var group: UInt64; var tag: Int64 }
    enum PeerState { case alive, departed, dead }

    let rank: Int
    let worldSize: Int
    let options: CommunicatorOptions
    /// Connections by world rank; `nil` at `rank`.
    let connections: [FrameConnection?]
    let store: RendezvousStore?

    let state = NSCondition()
    var mailbox: [MailboxKey: [[UInt8]]] = [:]
    var peerStates: [PeerState]
    var lastSeen: [ContinuousClock.Instant]
    private(set) var failure: TCPMeshFailure?
    var stopping = false
    let threads = DispatchGroup()
    /// Host identity of every world rank (set once while connecting).
    var hostIdentities: [String] = []
    /// Job-unique number (from the secret) for naming shared-memory segments.
    var jobKey: UInt64 = 0
    /// Where the first failure is recorded for the launcher (`FailureReport`), if anywhere.
    var failureReportPath: String?

    init(rank: Int, connections: [FrameConnection?], store: RendezvousStore?, options: CommunicatorOptions) {
        self.rank = rank
        self.worldSize = connections.count
        self.connections = connections
        self.store = store
        self.options = options
        peerStates = Array(repeating: .alive, count: connections.count)
        lastSeen = Array(repeating: .now, count: connections.count)
    }

    /// Starts receivers and the heartbeat thread.
    func start() {
        for peer in 0..<worldSize where peer != rank {
            threads.enter()
            Thread.detachNewThread { [self] in
                defer { threads.leave() }
                receiveLoop(peer: peer)
            }
        }
        threads.enter()
        Thread.detachNewThread { [self] in
            defer { threads.leave() }
            heartbeatLoop()
        }
    }

    /// The first failure, if any (thread-safe).
    var currentFailure: TCPMeshFailure? {
        state.lock(); defer { state.unlock() }
        return failure
    }

    /// Records the first failure, wakes every waiter and tells the peers (best effort).
    func fail(_ newFailure: TCPMeshFailure, notifyPeers: Bool = true) {
        state.lock()
        let first = failure == nil
        if first, let failureReportPath, newFailure.kind != .invalidArgument {
            // Written before any waiter can see the failure (and the process exit on it).
            FailureReport(reporter: rank, blamed: newFailure.worldPeer, detail: newFailure.detail).write(to: failureReportPath)
        }
        if first { failure = newFailure }
        state.broadcast()
        state.unlock()
        guard first, notifyPeers else { return }
        // The abort frame names the root cause: tag = its world rank (-1: this rank itself),
        // groupID = the failure kind's code.
        let message = Array("reported by rank \(rank): \(newFailure.detail)".utf8)
        let header = FrameHeader(kind: .abort, groupID: newFailure.kind.code, tag: Int64(newFailure.worldPeer ?? rank))
        // Sent before returning, so that a process exiting right after its error still tells
        // the others the root cause (otherwise they would only see this process's EOF).
        for (peer, connection) in connections.enumerated() where peer != rank && peerState(peer) == .alive {
            connection?.trySend(header, bytes: message, within: .milliseconds(300))
        }
    }

    /// Sends a data frame to `peer` (world rank) straight from `bytes`.
    func send(_ bytes: UnsafeRawBufferPointer, to peer: Int, group: UInt64, tag: Int64,
              deadline: TCPDeadline) throws(TCPMeshFailure) {
        if let failure = currentFailure { throw failure }
        do {
            try connections[peer]!.send(FrameHeader(kind: .data, groupID: group, tag: tag, payloadLength: bytes.count),
                                        payload: bytes, deadline: deadline)
        } catch let error as TCPSocketError {
            let failure = TCPMeshFailure(kind: error.kind == .timeout ? .timeout : .peerDisconnected,
                                         worldPeer: peer, detail: "sending: \(error)")
            fail(failure)
            throw currentFailure ?? failure
        } catch {
            fail(TCPMeshFailure(kind: .backend, worldPeer: peer, detail: "\(error)"))
            throw currentFailure!
        }
    }

    /// Waits for the next data frame from `peer` (world rank) in `group` with `tag`.
    func take(from peer: Int, group: UInt64, tag: Int64, deadline: TCPDeadline) throws(TCPMeshFailure) -> [UInt8] {
        let key = MailboxKey(peer: peer, group: group, tag: tag)
        state.lock()
        defer { state.unlock() }
        while true {
            if var queue = mailbox[key], !queue.isEmpty {
                let first = queue.removeFirst()
                mailbox[key] = queue.isEmpty ? nil : queue
                return first
            }
            if let failure { throw failure }
            if peerStates[peer] != .alive {
                throw TCPMeshFailure(kind: .peerDisconnected, worldPeer: peer,
                                     detail: "peer closed its communicator while this rank still expected data")
            }
            if deadline.expired {
                let failure = TCPMeshFailure(kind: .timeout, worldPeer: peer,
                                             detail: "no data within the operation timeout \(options.operationTimeout)")
                state.unlock()
                fail(failure)
                state.lock()
                throw self.failure ?? failure
            }
            _ = state.wait(until: Date(timeIntervalSinceNow: Double(deadline.pollMilliseconds) / 1000))
        }
    }

    /// Orderly shutdown: every rank calls this; waits (briefly) for the peers' goodbyes.
    func close() {
        for case let connection? in connections {
            try? connection.send(FrameHeader(kind: .goodbye), deadline: TCPDeadline(after: .seconds(2)))
        }
        let deadline = Date(timeIntervalSinceNow: 5)
        state.lock()
        while failure == nil, peerStates.enumerated().contains(where: { $0.offset != rank && $0.element == .alive }) {
            if !state.wait(until: deadline) { break }
        }
        stopping = true
        state.broadcast()
        state.unlock()
        for case let connection? in connections { connection.socket.shutdownBoth() }
        threads.wait()
        store?.stop()
        fail(TCPMeshFailure(kind: .invalidArgument, worldPeer: nil, detail: "the communicator was closed"),
             notifyPeers: false)
    }

    /// Drops every connection without goodbye, as a crashed process would (tests only).
    func abortConnections() {
        state.lock()
        stopping = true
        state.unlock()
        for case let connection? in connections { connection.socket.shutdownBoth() }
        threads.wait()
        store?.stop()
    }
}

extension TCPMeshFailure: Error {}

extension CollectiveError.Kind {
    private static let coded: [CollectiveError.Kind] = [.timeout, .peerDisconnected, .peerFailed, .protocolViolation,
                                                        .authenticationFailed, .poisoned, .invalidArgument, .backend]
    /// Wire code of the kind (in abort frames).
    var code: UInt64 { UInt64(Self.coded.firstIndex(of: self)!) }
    /// The kind for a wire code; unknown codes read as `.peerFailed`.
    init(code: UInt64) { self = code < 8 ? Self.coded[Int(code)] : .peerFailed }
}
