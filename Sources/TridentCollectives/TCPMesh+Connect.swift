import Foundation

/// Where and how the ranks of one TCP job find each other.
public struct TCPRendezvous: Sendable {
    public var rank: Int
    public var worldSize: Int
    /// Host of world rank 0, which serves the rendezvous store.
    public var masterAddress: String
    public var masterPort: Int
    /// Per-job secret; every connection must present it.
    public var secret: String
    /// Whether world rank 0 starts the store itself (false: someone else already serves it,
    /// e.g. a test or a launcher).
    public var rankZeroServesStore: Bool
    /// Ranks with equal host identity use shared memory for all-reduce. Default: host name +
    /// boot id; give distinct values to force TCP between ranks of one machine.
    public var hostIdentity: String

    public init(rank: Int, worldSize: Int, masterAddress: String, masterPort: Int, secret: String,
                rankZeroServesStore: Bool = true, hostIdentity: String? = nil) {
        precondition(worldSize >= 1 && (0..<worldSize).contains(rank), "rank \(rank) outside world of \(worldSize)")
        self.rank = rank
        self.worldSize = worldSize
        self.masterAddress = masterAddress
        self.masterPort = masterPort
        self.secret = secret
        self.rankZeroServesStore = rankZeroServesStore
        self.hostIdentity = hostIdentity ?? Self.defaultHostIdentity()
    }

    /// Host name plus kernel boot id: equal exactly for processes of one running machine.
    public static func defaultHostIdentity() -> String {
        var name = [UInt8](repeating: 0, count: 256)
        name.withUnsafeMutableBufferPointer { $0.withMemoryRebound(to: CChar.self) { _ = gethostname($0.baseAddress!, 255) } }
        let host = String(decoding: name.prefix { $0 != 0 }, as: UTF8.self)
        let boot = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)) ?? ""
        return host + "/" + boot.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

extension TCPMesh {
    /// Rendezvous through the store, then connect every pair of ranks (rank i dials every
    /// j < i and accepts every j > i). Each connection starts with an authenticated hello.
    static func establish(_ r: TCPRendezvous, options: CommunicatorOptions) throws -> TCPMesh {
        let rank = r.rank
        let failure = { (kind: CollectiveError.Kind, peer: Int?, detail: String) in
            CollectiveError(kind, operation: "connect", rank: rank, peer: peer, group: "world", detail: detail)
        }
        let store = rank == 0 && r.rankZeroServesStore ? try RendezvousStore(host: r.masterAddress, port: r.masterPort, secret: r.secret) : nil
        let timeout = max(options.livenessTimeout * 6, .seconds(60))
        let client = try RendezvousClient(host: r.masterAddress, port: store?.port ?? r.masterPort,
                                          secret: r.secret, rank: rank, timeout: timeout)
        let authentication = TCPAuthentication(secret: r.secret)
        let deadline = TCPDeadline(after: timeout)
        var connections = [FrameConnection?](repeating: nil, count: r.worldSize)
        var hosts = [r.hostIdentity]
        if r.worldSize > 1 {
            try client.set("trident/host/\(rank)", Array(r.hostIdentity.utf8))
            let listener: TCPSocket
            do { listener = try TCPSocket.listen(host: client.localHost, port: 0) } catch {
                throw failure(.backend, nil, "cannot listen on \(client.localHost): \(error)")
            }
            try client.set("trident/addr/\(rank)", Array("\(client.localHost):\(listener.localPort)".utf8))
            for peer in 0..<rank {
                let address = String(decoding: try client.get("trident/addr/\(peer)"), as: UTF8.self)
                connections[peer] = try dial(address, peer: peer, rank: rank, authentication: authentication,
                                             deadline: deadline, failure: failure)
            }
            var pending = r.worldSize - rank - 1
            while pending > 0 {
                let socket: TCPSocket, address: String
                do { (socket, address) = try listener.accept(deadline: deadline) } catch {
                    throw failure(.timeout, nil, "\(pending) higher ranks did not connect: \(error)")
                }
                let connection = FrameConnection(socket: socket, peerName: address)
                guard let peer = admit(connection, rank: rank, worldSize: r.worldSize, authentication: authentication),
                      connections[peer] == nil else { continue }
                connection.peerName = "rank \(peer)"
                connections[peer] = connection
                pending -= 1
            }
        }
        if r.worldSize > 1 {
            hosts = try (0..<r.worldSize).map { String(decoding: try client.get("trident/host/\($0)"), as: UTF8.self) }
        }
        let mesh = TCPMesh(rank: rank, connections: connections, store: store, options: options)
        mesh.hostIdentities = hosts
        mesh.jobKey = TCPCommunicator.mix(UInt64(truncatingIfNeeded: r.secret.utf8.reduce(UInt64(14_695_981_039_346_656_037)) {
            ($0 ^ UInt64($1)) &* 1_099_511_628_211 }), UInt64(r.masterPort))
        mesh.start()
        return mesh
    }

    private static func dial(_ address: String, peer: Int, rank: Int, authentication: TCPAuthentication,
                             deadline: TCPDeadline,
                             failure: (CollectiveError.Kind, Int?, String) -> CollectiveError) throws -> FrameConnection {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            throw failure(.protocolViolation, peer, "rank \(peer) published a bad address '\(address)'")
        }
        do {
            let socket = try TCPSocket.connect(host: String(address[..<colon]), port: port, deadline: deadline)
            let connection = FrameConnection(socket: socket, peerName: "rank \(peer)")
            try connection.send(FrameHeader(kind: .hello, tag: Int64(rank)), bytes: authentication.token, deadline: deadline)
            let reply = try connection.receiveHeader(deadline: deadline)
            guard reply.kind == .welcome else {
                throw failure(.protocolViolation, peer, "rank \(peer) answered hello with a \(reply.kind) frame")
            }
            return connection
        } catch let error as TCPSocketError {
            throw failure(error.kind == .timeout ? .timeout : .authenticationFailed, peer,
                          "connecting to rank \(peer) at \(address): \(error)")
        } catch let error as FrameError {
            throw failure(.protocolViolation, peer, error.description)
        }
    }

    /// Checks a newcomer's hello; returns its rank, or nil (logged) when it must be refused.
    private static func admit(_ connection: FrameConnection, rank: Int, worldSize: Int,
                              authentication: TCPAuthentication) -> Int? {
        let deadline = TCPDeadline(after: .seconds(10))
        do {
            let hello = try connection.receiveHeader(deadline: deadline)
            guard hello.kind == .hello, hello.payloadLength <= 4096 else {
                throw FrameError(peer: connection.peerName, detail: "expected a hello frame, got \(hello.kind)")
            }
            let token = try connection.receivePayload(length: hello.payloadLength, deadline: deadline)
            guard authentication.accepts(token) else {
                tcpLog("trident rank \(rank): refused connection from \(connection.peerName): wrong job secret")
                return nil
            }
            guard hello.tag > Int64(rank), hello.tag < Int64(worldSize) else {
                tcpLog("trident rank \(rank): refused connection from \(connection.peerName): claims rank \(hello.tag)")
                return nil
            }
            try connection.send(FrameHeader(kind: .welcome), deadline: deadline)
            return Int(hello.tag)
        } catch {
            tcpLog("trident rank \(rank): refused connection from \(connection.peerName): \(error)")
            return nil
        }
    }
}
