import Foundation

/// A socket that exchanges `FrameHeader`-prefixed frames. Writes are serialised by a lock so
/// that frames from several threads (data, heartbeats) never interleave; reads are done by one
/// thread at a time (the owner's receiver).
final class FrameConnection: @unchecked Sendable {
    let socket: TCPSocket
    /// Who is at the other end, for error messages (`"rank 2"`, `"10.0.0.2:40000"`).
    var peerName: String
    private let writeLock = NSLock()

    init(socket: TCPSocket, peerName: String) {
        self.socket = socket
        self.peerName = peerName
    }

    /// Sends one frame (header + payload) atomically with respect to other writers.
    func send(_ header: FrameHeader, payload: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
              deadline: TCPDeadline) throws {
        precondition(header.payloadLength == UInt64(payload.count), "frame length must match its payload")
        writeLock.lock()
        defer { writeLock.unlock() }
        try sendLocked(header, payload: payload, deadline: deadline)
    }

    /// Writes one frame; the caller holds `writeLock`.
    private func sendLocked(_ header: FrameHeader, payload: UnsafeRawBufferPointer, deadline: TCPDeadline) throws {
        var head = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        try withUnsafeMutableBytes(of: &head) { raw in
            header.encode(into: raw)
            try socket.sendAll(UnsafeRawBufferPointer(raw), deadline: deadline)
        }
        if payload.count > 0 { try socket.sendAll(payload, deadline: deadline) }
    }

    /// Best-effort send that gives up (silently) when the connection stays busy or blocked
    /// for `within` (another thread may be stuck writing to a dead peer).
    func trySend(_ header: FrameHeader, bytes: [UInt8], within: Duration) {
        let deadline = TCPDeadline(after: within)
        while !writeLock.try() {
            if deadline.expired { return }
            usleep(1_000)
        }
        defer { writeLock.unlock() }
        var h = header
        h.payloadLength = UInt64(bytes.count)
        bytes.withUnsafeBytes { try? sendLocked(h, payload: $0, deadline: deadline) }
    }

    func tryLockWriter() -> Bool { writeLock.try() }
    func unlockWriter() { writeLock.unlock() }

    /// Sends a frame whose payload is a byte array.
    func send(_ header: FrameHeader, bytes: [UInt8], deadline: TCPDeadline) throws {
        var h = header
        h.payloadLength = UInt64(bytes.count)
        try bytes.withUnsafeBytes { try send(h, payload: $0, deadline: deadline) }
    }

    /// Receives and validates one header; `tick` runs while idle and may throw.
    func receiveHeader(deadline: TCPDeadline, tick: () throws -> Void = {}) throws -> FrameHeader {
        var head = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        return try withUnsafeMutableBytes(of: &head) { raw in
            try socket.receiveAll(raw, deadline: deadline, tick: tick)
            return try FrameHeader.decode(UnsafeRawBufferPointer(raw), peer: peerName)
        }
    }

    /// Receives a payload of `length` bytes into a new array.
    func receivePayload(length: UInt64, deadline: TCPDeadline, tick: () throws -> Void = {}) throws -> [UInt8] {
        // Not zero-filled first: every byte is overwritten by the socket (or we throw).
        try [UInt8](unsafeUninitializedCapacity: Int(length)) { buffer, initialized in
            if length > 0 {
                try socket.receiveAll(UnsafeMutableRawBufferPointer(buffer), deadline: deadline, tick: tick)
            }
            initialized = Int(length)
        }
    }
}

/// The per-job shared secret, as sent in `hello` frames and compared in constant time.
struct TCPAuthentication: Sendable {
    let token: [UInt8]

    /// Start of every token: marks a trident peer (whatever its secret).
    static let prefix = Array("trident-auth-v1:".utf8)

    init(secret: String) {
        token = Self.prefix + Array(secret.utf8)
    }

    /// Constant-time comparison (time does not depend on where the first mismatch is).
    func accepts(_ candidate: [UInt8]) -> Bool {
        var diff = UInt8(truncatingIfNeeded: candidate.count ^ token.count)
        for i in 0..<token.count {
            diff |= token[i] ^ (i < candidate.count ? candidate[i] : 0)
        }
        return diff == 0
    }
}

/// Writes one line to stderr (the backend's only logging: refused connections).
func tcpLog(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
