import Foundation

/// Accepts the higher ranks on a rank's listening socket while the job forms.
///
/// Newcomers are handled concurrently, each on its own thread with `handshakeTimeout` to
/// present an authenticated `hello` claiming a rank in `expected`; strangers (idle, garbage,
/// a wrong secret, a rank already admitted or not expected) are dropped without delaying
/// anyone else. At most `maxHandshakes` handshakes run at once; beyond that newcomers are
/// closed at once (a flood cannot exhaust threads).
final class PeerAdmission: @unchecked Sendable {
    static let maxHandshakes = 64
    let rank: Int
    let expected: Range<Int>
    private let listener: TCPSocket
    private let authentication: TCPAuthentication
    private let handshakeTimeout: Duration
    private let state = NSCondition()
    private var admitted: [Int: FrameConnection] = [:]
    private var handshaking: [ObjectIdentifier: TCPSocket] = [:]
    private var stopped = false
    private let threads = DispatchGroup()

    /// Starts accepting on `listener` (already listening) for world ranks in `expected`.
    init(listener: TCPSocket, rank: Int, expected: Range<Int>, authentication: TCPAuthentication,
         handshakeTimeout: Duration = .seconds(10)) {
        self.listener = listener
        self.rank = rank
        self.expected = expected
        self.authentication = authentication
        self.handshakeTimeout = handshakeTimeout
        guard !expected.isEmpty else { return }
        threads.enter()
        Thread.detachNewThread { [self] in
            defer { threads.leave() }
            acceptLoop()
        }
    }

    /// Waits until every expected rank has been admitted, or `deadline` passes, running `check`
    /// (which may throw to give up) twice a second; stops accepting either way.
    /// - Returns: connections by world rank. Throws `MissingRanks`, or what `check` threw.
    func wait(deadline: TCPDeadline, check: () throws -> Void) throws -> [Int: FrameConnection] {
        defer { stop() }
        state.lock()
        var lastCheck = ContinuousClock.now
        while admitted.count < expected.count && !deadline.expired {
            _ = state.wait(until: Date(timeIntervalSinceNow: Double(max(min(deadline.pollMilliseconds, 100), 1)) / 1000))
            if ContinuousClock.now - lastCheck >= .milliseconds(500) {
                state.unlock()
                try check()   // unlocked here; the deferred stop() runs if it throws
                state.lock()
                lastCheck = .now
            }
        }
        let result = admitted
        state.unlock()
        let missing = expected.filter { result[$0] == nil }
        guard missing.isEmpty else { throw MissingRanks(ranks: missing) }
        return result
    }

    /// Stops accepting and aborts running handshakes; idempotent.
    func stop() {
        state.lock()
        let wasStopped = stopped
        stopped = true
        let open = Array(handshaking.values)
        state.unlock()
        guard !wasStopped else { return }
        listener.shutdownBoth()
        for socket in open { socket.shutdownBoth() }
        threads.wait()
    }

    private var isStopped: Bool {
        state.lock(); defer { state.unlock() }
        return stopped
    }

    private func acceptLoop() {
        while !isStopped {
            guard let (socket, address) = try? listener.accept(deadline: TCPDeadline(after: .milliseconds(200))) else {
                continue
            }
            state.lock()
            let room = !stopped && handshaking.count < Self.maxHandshakes
            if room { handshaking[ObjectIdentifier(socket)] = socket }
            state.unlock()
            guard room else {
                tcpLog("trident rank \(rank): refused connection from \(address): too many handshakes in progress")
                continue   // `socket` closes when released
            }
            threads.enter()
            Thread.detachNewThread { [self] in
                defer { threads.leave() }
                handshake(FrameConnection(socket: socket, peerName: address))
                state.lock()
                handshaking[ObjectIdentifier(socket)] = nil
                state.unlock()
            }
        }
    }

    /// Reads and checks one newcomer's hello; admits it or drops it (logged).
    private func handshake(_ connection: FrameConnection) {
        let deadline = TCPDeadline(after: handshakeTimeout)
        do {
            let hello = try connection.receiveHeader(deadline: deadline)
            guard hello.kind == .hello, hello.payloadLength <= 4096 else {
                throw FrameError(peer: connection.peerName, detail: "expected a hello frame, got \(hello.kind)")
            }
            let token = try connection.receivePayload(length: hello.payloadLength, deadline: deadline)
            guard authentication.accepts(token) else { return refuse(connection, "wrong job secret") }
            guard expected.contains(Int(clamping: hello.tag)) else {
                return refuse(connection, "claims rank \(hello.tag), expected one of \(expected)")
            }
            let peer = Int(hello.tag)
            state.lock()
            let taken = admitted[peer] != nil || stopped
            state.unlock()
            if taken { return refuse(connection, "rank \(peer) is already connected") }
            try connection.send(FrameHeader(kind: .welcome), deadline: deadline)
            connection.peerName = "rank \(peer)"
            state.lock()
            // Admitted under the lock that `stop()` reads, so it never shuts down a kept connection.
            handshaking[ObjectIdentifier(connection.socket)] = nil
            if admitted[peer] == nil { admitted[peer] = connection }
            state.broadcast()
            state.unlock()
        } catch {
            refuse(connection, "\(error)")
        }
    }

    private func refuse(_ connection: FrameConnection, _ reason: String) {
        if !isStopped { tcpLog("trident rank \(rank): refused connection from \(connection.peerName): \(reason)") }
        connection.socket.shutdownBoth()
    }
}

/// Ranks that did not join before the forming deadline.
struct MissingRanks: Error, CustomStringConvertible {
    var ranks: [Int]
    var description: String {
        "rank\(ranks.count == 1 ? "" : "s") " + ranks.map(String.init).joined(separator: ", ") + " did not connect"
    }
}
