/// The kinds of frame the TCP backend and its rendezvous store exchange.
enum FrameKind: UInt16, Sendable {
    /// First frame on every connection: `tag` = sender's world rank (-1 for store clients),
    /// payload = the job's authentication token.
    case hello = 1
    /// Reply to `hello`: accepted.
    case welcome = 2
    /// Collective or point-to-point data for group `groupID`, matched by `tag`.
    case data = 3
    /// Liveness signal, no payload.
    case heartbeat = 4
    /// The sender failed; payload = UTF-8 description of its error.
    case abort = 5
    /// The sender closes the connection in an orderly way.
    case goodbye = 6
    /// Store requests (payload: key, or key + value) and the store's reply.
    case storeSet = 10, storeGet = 11, storeAdd = 12, storeReply = 13
}

/// Fixed 32-byte header in front of every frame, little-endian:
/// magic u32 "TRDF" | version u16 | kind u16 | groupID u64 | tag i64 | payloadLength u64.
struct FrameHeader: Equatable, Sendable {
    static let magic: UInt32 = 0x4644_5254 // "TRDF" read as little-endian bytes
    static let version: UInt16 = 1
    static let byteCount = 32
    /// Largest payload accepted (16 GiB): anything bigger is a corrupt length.
    static let maxPayload: UInt64 = 1 << 34

    var kind: FrameKind
    var groupID: UInt64
    var tag: Int64
    var payloadLength: UInt64

    init(kind: FrameKind, groupID: UInt64 = 0, tag: Int64 = 0, payloadLength: Int = 0) {
        self.kind = kind
        self.groupID = groupID
        self.tag = tag
        self.payloadLength = UInt64(payloadLength)
    }

    /// Writes the header into `bytes` (at least `byteCount` long).
    func encode(into bytes: UnsafeMutableRawBufferPointer) {
        precondition(bytes.count >= Self.byteCount, "frame header needs \(Self.byteCount) bytes")
        bytes.storeBytes(of: Self.magic.littleEndian, toByteOffset: 0, as: UInt32.self)
        bytes.storeBytes(of: Self.version.littleEndian, toByteOffset: 4, as: UInt16.self)
        bytes.storeBytes(of: kind.rawValue.littleEndian, toByteOffset: 6, as: UInt16.self)
        bytes.storeBytes(of: groupID.littleEndian, toByteOffset: 8, as: UInt64.self)
        bytes.storeBytes(of: tag.littleEndian, toByteOffset: 16, as: Int64.self)
        bytes.storeBytes(of: payloadLength.littleEndian, toByteOffset: 24, as: UInt64.self)
    }

    /// The header as a 32-byte array.
    var encoded: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.byteCount)
        bytes.withUnsafeMutableBytes { encode(into: $0) }
        return bytes
    }

    /// Parses and validates a received header; `peer` names the sender in errors.
    static func decode(_ bytes: UnsafeRawBufferPointer, peer: String) throws(FrameError) -> FrameHeader {
        guard bytes.count >= byteCount else {
            throw FrameError(peer: peer, detail: "expected a \(byteCount)-byte frame header, got \(bytes.count) bytes")
        }
        let magic = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
        guard magic == Self.magic else {
            throw FrameError(peer: peer, detail: "bad frame magic 0x\(String(magic, radix: 16)), expected 0x\(String(Self.magic, radix: 16))")
        }
        let version = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt16.self))
        guard version == Self.version else {
            throw FrameError(peer: peer, detail: "unsupported frame version \(version), expected \(Self.version)")
        }
        let rawKind = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 6, as: UInt16.self))
        guard let kind = FrameKind(rawValue: rawKind) else {
            throw FrameError(peer: peer, detail: "unknown frame kind \(rawKind)")
        }
        let length = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
        guard length <= maxPayload else {
            throw FrameError(peer: peer, detail: "frame payload length \(length) exceeds the limit \(maxPayload)")
        }
        if (kind == .heartbeat || kind == .goodbye || kind == .welcome) && length != 0 {
            throw FrameError(peer: peer, detail: "\(kind) frame must be empty, has \(length) payload bytes")
        }
        var header = FrameHeader(kind: kind)
        header.groupID = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        header.tag = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 16, as: Int64.self))
        header.payloadLength = length
        return header
    }
}

/// A received frame that does not follow the protocol.
struct FrameError: Error, CustomStringConvertible, Equatable {
    /// Who sent it, e.g. `"rank 3"` or `"10.0.0.2:51234"`.
    var peer: String
    var detail: String
    var description: String { "malformed frame from \(peer): \(detail)" }
}
