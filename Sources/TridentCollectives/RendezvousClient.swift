import Foundation

/// A connection to a `RendezvousStore`. One request at a time (calls are serialised).
public final class RendezvousClient: @unchecked Sendable {
    private let connection: FrameConnection
    private let lock = NSLock()
    private let timeout: Duration
    private let rank: Int
    /// Local IPv4 address of this connection: the interface that reaches the store's host.
    public let localHost: String

    /// Connects to the store at `host:port` and authenticates with `secret`, retrying until
    /// `timeout` while the store is not up yet. Throws `.authenticationFailed` when the store
    /// refuses the secret, `.timeout` when it cannot be reached, `.invalidArgument` when the store
    /// found the job misconfigured (`worldSize`, when not 0, is checked against the store's).
    public init(host: String, port: Int, secret: String, rank: Int, timeout: Duration = .seconds(60),
                worldSize: Int = 0) throws {
        self.timeout = timeout
        self.rank = rank
        let fail = { (kind: CollectiveError.Kind, detail: String) in
            CollectiveError(kind, operation: "rendezvous", rank: rank, group: "world", detail: detail)
        }
        let socket: TCPSocket
        do {
            socket = try TCPSocket.connect(host: host, port: port, deadline: TCPDeadline(after: timeout))
        } catch let error as TCPSocketError {
            throw fail(error.kind == .timeout ? .timeout : .backend,
                       "cannot reach the rendezvous store at \(host):\(port): \(error)")
        }
        connection = FrameConnection(socket: socket, peerName: "store \(host):\(port)")
        localHost = socket.localHost
        let deadline = TCPDeadline(after: timeout)
        do {
            try connection.send(FrameHeader(kind: .hello, groupID: UInt64(max(worldSize, 0)), tag: Int64(rank)),
                                bytes: TCPAuthentication(secret: secret).token, deadline: deadline)
            let reply = try connection.receiveHeader(deadline: deadline)
            if reply.kind == .abort { throw try fault(reply, deadline: deadline, rank: rank) }
            guard reply.kind == .welcome else {
                throw fail(.protocolViolation, "store answered hello with a \(reply.kind) frame")
            }
        } catch let error as TCPSocketError where error.kind == .closed {
            throw fail(.authenticationFailed, "the rendezvous store at \(host):\(port) refused this job secret")
        } catch let error as TCPSocketError {
            throw fail(error.kind == .timeout ? .timeout : .backend, "store handshake: \(error)")
        }
    }

    /// Stores `value` under `key` (overwriting).
    public func set(_ key: String, _ value: [UInt8]) throws {
        _ = try request(.storeSet, key: key, value: value, tag: 0)
    }

    /// Returns the value of `key`, waiting until some rank sets it (or the timeout passes).
    public func get(_ key: String) throws -> [UInt8] {
        let ms = timeout.components.seconds * 1000
        guard let value = try request(.storeGet, key: key, value: [], tag: ms) else {
            throw CollectiveError(.timeout, operation: "rendezvous", rank: rank, group: "world",
                                  detail: "key '\(key)' was not published within \(timeout)", elapsed: timeout)
        }
        return value
    }

    /// The value of `key`, waiting at most `wait` for some client to set it; nil when it is
    /// still missing then (a poll with `.zero`).
    public func value(_ key: String, waitingUpTo wait: Duration = .zero) throws -> [UInt8]? {
        let ms = max(0, wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000)
        return try request(.storeGet, key: key, value: [], tag: ms)
    }

    /// Throws when the store found the job misconfigured (see `RendezvousStore`); returns at once.
    public func probe() throws {
        _ = try request(.storeGet, key: "trident/probe", value: [], tag: 0)
    }

    /// Atomically adds `delta` to the integer at `key` (missing = 0) and returns the new value.
    @discardableResult
    public func add(_ key: String, _ delta: Int64) throws -> Int64 {
        let bytes = withUnsafeBytes(of: delta.littleEndian) { Array($0) }
        let value = try request(.storeAdd, key: key, value: bytes, tag: 0) ?? []
        guard value.count == 8 else {
            throw CollectiveError(.protocolViolation, operation: "rendezvous", rank: -1, group: "world",
                                  detail: "store add returned \(value.count) bytes, expected 8")
        }
        return value.withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(as: Int64.self)) }
    }

    /// The store's diagnosis of a misconfigured job (an `abort` reply), as an error.
    private func fault(_ reply: FrameHeader, deadline: TCPDeadline, rank: Int) throws -> CollectiveError {
        let message = try connection.receivePayload(length: Swift.min(reply.payloadLength, 65_536), deadline: deadline)
        return CollectiveError(.invalidArgument, operation: "rendezvous", rank: rank, group: "world",
                               detail: "the rendezvous store refused the job: " + String(decoding: message, as: UTF8.self))
    }

    private func request(_ kind: FrameKind, key: String, value: [UInt8], tag: Int64) throws -> [UInt8]? {
        lock.lock()
        defer { lock.unlock() }
        let deadline = TCPDeadline(after: timeout + .seconds(5))
        do {
            try connection.send(FrameHeader(kind: kind, tag: tag), bytes: RendezvousStore.joinKey(key, value),
                                deadline: deadline)
            let reply = try connection.receiveHeader(deadline: deadline)
            if reply.kind == .abort { throw try fault(reply, deadline: deadline, rank: rank) }
            guard reply.kind == .storeReply else {
                throw CollectiveError(.protocolViolation, operation: "rendezvous", rank: -1, group: "world",
                                      detail: "expected a store reply, got a \(reply.kind) frame")
            }
            let payload = try connection.receivePayload(length: reply.payloadLength, deadline: deadline)
            return reply.tag == 0 ? payload : nil
        } catch let error as TCPSocketError {
            throw CollectiveError(error.kind == .timeout ? .timeout : .peerDisconnected, operation: "rendezvous",
                                  rank: rank, peer: 0, group: "world", detail: "store request '\(key)': \(error)")
        } catch let error as FrameError {
            throw CollectiveError(.protocolViolation, operation: "rendezvous", rank: -1, peer: 0, group: "world",
                                  detail: error.description)
        }
    }
}
