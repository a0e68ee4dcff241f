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
    /// Deadline for forming the job (every rank joined and connected); nil: six liveness
    /// timeouts, at least 60 s. Once formed, the liveness timeout applies.
    public var formingTimeout: Duration?
    /// Where this rank writes a one-line `FailureReport` when its mesh first fails (read by
    /// the launcher to name the root cause); nil: nowhere.
    public var failureReportPath: String?

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
        do {
            return try connectAll(r, options: options)
        } catch let error as CollectiveError where error.operation == "rendezvous" && r.rank != 0
                    && (error.kind == .timeout || error.kind == .peerDisconnected) {
            // The store is served by world rank 0: it is the one that stopped answering.
            if let path = r.failureReportPath {
                FailureReport(reporter: r.rank, blamed: 0, detail: "the rendezvous store it serves did not answer (\(error.detail))")
                    .write(to: path)
            }
            throw error
        }
    }

    /// Serves the store (world rank 0), rendezvous, connects every pair, starts the mesh.
    private static func connectAll(_ r: TCPRendezvous, options: CommunicatorOptions) throws -> TCPMesh {
        let store = r.rank == 0 && r.rankZeroServesStore
            ? try RendezvousStore(host: r.masterAddress, port: r.masterPort, secret: r.secret, worldSize: r.worldSize) : nil
        let timeout = r.formingTimeout ?? max(options.livenessTimeout * 6, .seconds(60))
        let client = try RendezvousClient(host: r.masterAddress, port: store?.port ?? r.masterPort,
                                          secret: r.secret, rank: r.rank, timeout: timeout, worldSize: r.worldSize)
        var connections = [FrameConnection?](repeating: nil, count: r.worldSize)
        var hosts = [r.hostIdentity]
        if r.worldSize > 1 {
            connections = try connectPeers(r, client: client, timeout: timeout)
            hosts = try (0..<r.worldSize).map { String(decoding: try client.get("trident/host/\($0)"), as: UTF8.self) }
        }
        let mesh = TCPMesh(rank: r.rank, connections: connections, store: store, options: options)
        mesh.hostIdentities = hosts
        mesh.jobKey = SharedMemoryJob.jobKey(secret: r.secret, masterPort: r.masterPort)
        mesh.failureReportPath = r.failureReportPath
        mesh.start()
        return mesh
    }

    /// Publishes this rank's host and address, dials every lower rank and admits every higher
    /// one (concurrently), all before the forming deadline. - Returns: connections by world rank.
    private static func connectPeers(_ r: TCPRendezvous, client: RendezvousClient,
                                     timeout: Duration) throws -> [FrameConnection?] {
        let rank = r.rank
        let failure = { (kind: CollectiveError.Kind, peer: Int?, detail: String) in
            CollectiveError(kind, operation: "connect", rank: rank, peer: peer, group: "world", detail: detail)
        }
        let authentication = TCPAuthentication(secret: r.secret)
        let deadline = TCPDeadline(after: timeout)
        var connections = [FrameConnection?](repeating: nil, count: r.worldSize)
        try client.set("trident/host/\(rank)", Array(r.hostIdentity.utf8))
        let listener: TCPSocket
        do { listener = try TCPSocket.listen(host: client.localHost, port: 0) } catch {
            throw failure(.backend, nil, "cannot listen on \(client.localHost): \(error)")
        }
        // Higher ranks are admitted concurrently while this rank dials the lower ones.
        let admission = PeerAdmission(listener: listener, rank: rank, expected: (rank + 1)..<r.worldSize,
                                      authentication: authentication)
        defer { admission.stop() }
        try client.set("trident/addr/\(rank)", Array("\(client.localHost):\(listener.localPort)".utf8))
        for peer in 0..<rank {
            let address: String
            do { address = String(decoding: try client.get("trident/addr/\(peer)"), as: UTF8.self) } catch let error as CollectiveError where error.kind == .timeout {
                throw formingFailed(r, missing: [peer], timeout: timeout)
            }
            connections[peer] = try dial(address, peer: peer, rank: rank, authentication: authentication,
                                         deadline: deadline, failure: failure)
        }
        do {
            // Meanwhile the store is asked whether it found the job misconfigured.
            for (peer, connection) in try admission.wait(deadline: deadline, check: client.probe) {
                connections[peer] = connection
            }
        } catch let error as MissingRanks {
            throw formingFailed(r, missing: error.ranks, timeout: timeout)
        }
        return connections
    }

    /// The forming deadline passed with `missing` ranks absent: reported (blaming the first
    /// of them, for the launcher) and returned as a timeout error.
    private static func formingFailed(_ r: TCPRendezvous, missing: [Int], timeout: Duration) -> CollectiveError {
        let deadline = "within the forming deadline of \(FailureReport.seconds(timeout)) s"
        let detail = MissingRanks(ranks: missing).description + " " + deadline
        if let path = r.failureReportPath {
            FailureReport(reporter: r.rank, blamed: missing.first, detail: "did not connect " + deadline).write(to: path)
        }
        return CollectiveError(.timeout, operation: "connect", rank: r.rank, peer: missing.count == 1 ? missing[0] : nil,
                               group: "world", detail: detail)
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
}
