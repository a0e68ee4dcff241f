import Foundation

/// A small key-value store served over TCP (like torch's TCPStore), run by world rank 0 so
/// that ranks can publish their addresses and find each other.
///
/// Every client must first send a `hello` frame carrying the job's token; a client with a
/// wrong token is refused (connection closed) and a line is logged to stderr. Requests:
/// `storeSet` (key, value), `storeGet` (key; waits up to `tag` milliseconds for the key to
/// appear), `storeAdd` (key, Int64 delta; returns the new value).
///
/// A store given the job's world size diagnoses a misconfigured job at once, to every client:
/// a trident hello claiming one of its ranks with a different secret, or one announcing (in
/// `groupID`) another world size, makes it fail every pending and later request with an
/// `abort` reply saying so. (A stranger who speaks the protocol can thereby stop a job that is
/// still forming, not a formed one; garbage is just dropped.)
/// Newcomers are served concurrently; at most `maxHandshakes` may be unauthenticated at once.
public final class RendezvousStore: @unchecked Sendable {
    static let maxHandshakes = 64
    /// The port the store listens on (useful when created with port 0).
    public let port: Int
    private let listener: TCPSocket
    private let authentication: TCPAuthentication
    private let state = NSCondition()
    private var values: [String: [UInt8]] = [:]
    private var stopped = false
    private var clients: [TCPSocket] = []
    private var handshakes = 0
    /// Set once the store found the job misconfigured; every later request is refused with it.
    private var fault: String?
    private let finished = DispatchGroup()
    /// World size of the job (nil: not checked).
    let worldSize: Int?

    /// Starts serving on `host:port` (port 0 picks a free one). With `worldSize`, clients that
    /// announce another world size are refused and the job is failed.
    public init(host: String, port: Int, secret: String, worldSize: Int? = nil) throws {
        self.worldSize = worldSize
        do {
            listener = try TCPSocket.listen(host: host, port: port)
        } catch {
            throw CollectiveError(.backend, operation: "rendezvous", rank: 0, group: "world",
                                  detail: "cannot serve the store on \(host):\(port): \(error)")
        }
        self.port = listener.localPort
        authentication = TCPAuthentication(secret: secret)
        finished.enter()
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    deinit { stop() }

    /// Stops accepting and drops every client; idempotent.
    public func stop() {
        state.lock()
        let wasStopped = stopped
        stopped = true
        let open = clients
        state.broadcast()
        state.unlock()
        if wasStopped { return }
        listener.shutdownBoth()
        for client in open { client.shutdownBoth() }
        finished.wait()
    }

    private var isStopped: Bool {
        state.lock(); defer { state.unlock() }
        return stopped
    }

    private func acceptLoop() {
        defer { finished.leave() }
        while !isStopped {
            guard let (socket, address) = try? listener.accept(deadline: TCPDeadline(after: .seconds(1))) else {
                continue
            }
            state.lock()
            let room = handshakes < Self.maxHandshakes
            if room {
                clients.append(socket)
                handshakes += 1
            }
            state.unlock()
            guard room else {
                tcpLog("trident rendezvous: refused connection from \(address): too many handshakes in progress")
                continue
            }
            finished.enter()
            Thread.detachNewThread { [self] in
                defer { finished.leave() }
                serve(FrameConnection(socket: socket, peerName: address))
            }
        }
    }

    private func serve(_ connection: FrameConnection) {
        let forever = TCPDeadline(after: .seconds(86_400 * 365))
        let stopCheck: () throws -> Void = { [self] in
            if isStopped { throw TCPSocketError(kind: .closed, detail: "store stopped") }
        }
        do {
            let admitted: Bool
            do {
                defer { state.lock(); handshakes -= 1; state.unlock() }
                admitted = try greet(connection, stopCheck: stopCheck)
            }
            guard admitted else { return }
            while true {
                let request = try connection.receiveHeader(deadline: forever, tick: stopCheck)
                let payload = try connection.receivePayload(length: request.payloadLength, deadline: TCPDeadline(after: .seconds(60)))
                let reply = try handle(request, payload: payload, from: connection.peerName)
                if let fault = reply.fault {
                    try connection.send(FrameHeader(kind: .abort), bytes: Array(fault.utf8), deadline: TCPDeadline(after: .seconds(5)))
                    continue
                }
                try connection.send(FrameHeader(kind: .storeReply, tag: reply.found ? 0 : -1), bytes: reply.value,
                                    deadline: TCPDeadline(after: .seconds(60)))
            }
        } catch let error as FrameError {
            tcpLog("trident rendezvous: dropped \(connection.peerName): \(error)")
            connection.socket.shutdownBoth()
        } catch {
            connection.socket.shutdownBoth() // client went away or store stopped
        }
    }

    /// Reads the hello within 10 s; welcomes a client with the job secret and world size.
    /// A trident hello with another secret or world size is refused and fails the job.
    /// - Returns: whether the client was admitted (false: dropped).
    private func greet(_ connection: FrameConnection, stopCheck: () throws -> Void) throws -> Bool {
        let deadline = TCPDeadline(after: .seconds(10))
        let hello = try connection.receiveHeader(deadline: deadline, tick: stopCheck)
        let token = try connection.receivePayload(length: Swift.min(hello.payloadLength, 4096), deadline: deadline)
        guard hello.kind == .hello, hello.payloadLength <= 4096, authentication.accepts(token) else {
            tcpLog("trident rendezvous: refused connection from \(connection.peerName): wrong or missing job secret")
            // Only a job's own store (which knows the world size) fails the job: a trident hello
            // claiming one of its ranks with another secret is a node started with another secret.
            if let worldSize, hello.kind == .hello, (0..<Int64(worldSize)).contains(hello.tag),
               token.starts(with: TCPAuthentication.prefix) {
                recordFault("rank \(hello.tag) (\(connection.peerName)) presented a different job secret: "
                            + "set the same TRIDENT_SECRET on every node")
            }
            connection.socket.shutdownBoth()
            return false
        }
        if let worldSize, hello.groupID != 0, hello.groupID != UInt64(worldSize) {
            let message = "rank \(hello.tag) (\(connection.peerName)) was started for a world of \(hello.groupID) ranks, "
                + "rank 0 for \(worldSize): give every node the same --nnodes and --nproc"
            recordFault(message)
            try connection.send(FrameHeader(kind: .abort), bytes: Array(message.utf8), deadline: deadline)
            connection.socket.shutdownBoth()
            return false
        }
        try connection.send(FrameHeader(kind: .welcome), deadline: deadline)
        return true
    }

    /// Fails the job: waiting and later requests get `message` (the first fault wins).
    private func recordFault(_ message: String) {
        state.lock()
        if fault == nil { fault = message }
        state.broadcast()
        state.unlock()
    }

    private func handle(_ request: FrameHeader, payload: [UInt8],
                        from peer: String) throws -> (found: Bool, value: [UInt8], fault: String?) {
        let (key, value) = try Self.splitKey(payload, peer: peer)
        state.lock()
        defer { state.unlock() }
        if let fault { return (false, [], fault) }
        switch request.kind {
        case .storeSet:
            values[key] = value
            state.broadcast()
            return (true, [], nil)
        case .storeGet:
            let deadline = Date(timeIntervalSinceNow: Double(max(request.tag, 0)) / 1000)
            while values[key] == nil && !stopped && fault == nil {
                if !state.wait(until: deadline) { break }
            }
            if let fault { return (false, [], fault) }
            if let found = values[key] { return (true, found, nil) }
            return (false, [], nil)
        case .storeAdd:
            guard value.count == 8 else {
                throw FrameError(peer: peer, detail: "storeAdd expects an 8-byte delta, got \(value.count) bytes")
            }
            let delta = value.withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(as: Int64.self)) }
            let old = values[key].map { v in v.withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(as: Int64.self)) } } ?? 0
            let new = withUnsafeBytes(of: (old &+ delta).littleEndian) { Array($0) }
            values[key] = new
            state.broadcast()
            return (true, new, nil)
        default:
            throw FrameError(peer: peer, detail: "expected a store request, got a \(request.kind) frame")
        }
    }

    /// Store payloads are `u32 keyLength | key bytes | value bytes`.
    static func splitKey(_ payload: [UInt8], peer: String) throws -> (String, [UInt8]) {
        guard payload.count >= 4 else { throw FrameError(peer: peer, detail: "store request shorter than its key length") }
        let length = Int(payload.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) })
        guard length <= payload.count - 4 else {
            throw FrameError(peer: peer, detail: "store key length \(length) exceeds the \(payload.count - 4) payload bytes")
        }
        let key = String(decoding: payload[4..<(4 + length)], as: UTF8.self)
        return (key, Array(payload[(4 + length)...]))
    }

    static func joinKey(_ key: String, _ value: [UInt8]) -> [UInt8] {
        let k = Array(key.utf8)
        return withUnsafeBytes(of: UInt32(k.count).littleEndian) { Array($0) } + k + value
    }
}
