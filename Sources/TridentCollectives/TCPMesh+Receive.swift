import Foundation

extension TCPMesh {
    /// Drains one peer's socket: data into the mailbox, heartbeats into `lastSeen`,
    /// EOF / silence / garbage into the mesh failure.
    func receiveLoop(peer: Int) {
        guard let connection = connections[peer] else { return }
        let forever = TCPDeadline(after: .seconds(86_400 * 365))
        let liveness = options.livenessTimeout
        let idleCheck: () throws -> Void = { [self] in
            state.lock()
            let quiet = ContinuousClock.now - lastSeen[peer]
            let stop = stopping
            state.unlock()
            if stop { throw TCPSocketError(kind: .closed, detail: "closing") }
            if quiet > liveness {
                throw TCPSocketError(kind: .timeout, detail: "no heartbeat for \(FailureReport.seconds(quiet)) s")
            }
        }
        do {
            while true {
                let header = try connection.receiveHeader(deadline: forever, tick: idleCheck)
                markSeen(peer)
                switch header.kind {
                case .heartbeat:
                    continue
                case .data:
                    let payload = try connection.receivePayload(length: header.payloadLength,
                                                                deadline: TCPDeadline(after: options.operationTimeout))
                    deliver(payload, from: peer, group: header.groupID, tag: header.tag)
                case .abort:
                    let payload = try connection.receivePayload(length: Swift.min(header.payloadLength, 65_536),
                                                                deadline: TCPDeadline(after: .seconds(5)))
                    let cause = (0..<worldSize).contains(Int(header.tag)) ? Int(header.tag) : peer
                    let kind: CollectiveError.Kind = cause == peer ? .peerFailed : CollectiveError.Kind(code: header.groupID)
                    fail(TCPMeshFailure(kind: kind, worldPeer: cause == rank ? peer : cause,
                                        detail: String(decoding: payload, as: UTF8.self)), notifyPeers: true)
                    setPeerState(peer, .dead)   // after fail(): waiters must see the root cause
                    return
                case .goodbye:
                    setPeerState(peer, .departed)
                    return
                default:
                    throw FrameError(peer: "rank \(peer)", detail: "unexpected \(header.kind) frame on a data connection")
                }
            }
        } catch let error as FrameError {
            fail(TCPMeshFailure(kind: .protocolViolation, worldPeer: peer, detail: error.description))
            setPeerState(peer, .dead)
            connection.socket.shutdownBoth()
        } catch let error as TCPSocketError {
            if isStopping { setPeerState(peer, .dead); return }
            switch error.kind {
            case .timeout:
                fail(TCPMeshFailure(kind: .peerFailed, worldPeer: peer, detail: error.detail))
            case .closed, .system:
                fail(TCPMeshFailure(kind: .peerDisconnected, worldPeer: peer, detail: error.detail))
            }
            setPeerState(peer, .dead)
            connection.socket.shutdownBoth()
        } catch {
            fail(TCPMeshFailure(kind: .backend, worldPeer: peer, detail: "\(error)"))
            setPeerState(peer, .dead)
        }
    }

    /// Sends a heartbeat to every peer a few times per liveness period, skipping peers whose
    /// connection is busy with data (data counts as a heartbeat).
    func heartbeatLoop() {
        let interval = options.livenessTimeout / 4
        let micros = max(Int(interval.components.seconds * 1_000_000 + interval.components.attoseconds / 1_000_000_000_000), 10_000)
        var slept = 0
        while !isStopping {
            usleep(UInt32(min(micros, 100_000)))
            slept += min(micros, 100_000)
            if slept < micros { continue }
            slept = 0
            for peer in 0..<worldSize where peer != rank {
                guard let connection = connections[peer], peerState(peer) == .alive else { continue }
                connection.trySendHeartbeat()
            }
        }
    }

    var isStopping: Bool {
        state.lock(); defer { state.unlock() }
        return stopping
    }

    private func markSeen(_ peer: Int) {
        state.lock()
        lastSeen[peer] = .now
        state.unlock()
    }

    private func deliver(_ payload: [UInt8], from peer: Int, group: UInt64, tag: Int64) {
        state.lock()
        mailbox[MailboxKey(peer: peer, group: group, tag: tag), default: []].append(payload)
        state.broadcast()
        state.unlock()
    }

    func peerState(_ peer: Int) -> PeerState {
        state.lock(); defer { state.unlock() }
        return peerStates[peer]
    }

    private func setPeerState(_ peer: Int, _ newState: PeerState) {
        state.lock()
        if peerStates[peer] == .alive { peerStates[peer] = newState }
        state.broadcast()
        state.unlock()
    }
}

extension FrameConnection {
    /// Sends a heartbeat unless another thread is writing (then the peer sees data anyway).
    func trySendHeartbeat() {
        guard tryLockWriter() else { return }
        defer { unlockWriter() }
        var head = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &head) { raw in
            FrameHeader(kind: .heartbeat).encode(into: raw)
            try? socket.sendAll(UnsafeRawBufferPointer(raw), deadline: TCPDeadline(after: .seconds(5)))
        }
    }
}
