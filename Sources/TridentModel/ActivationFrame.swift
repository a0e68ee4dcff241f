import TridentCollectives

/// The metadata sent ahead of one micro-batch's hidden states between pipeline stages.
///
/// Wire format: `ActivationFrameHeader.byteCount` bytes, ten little-endian Int64 fields
/// `[magic, version, microBatch, slot, start, tokenCount, hiddenSize, dtype, payloadBytes, kind]`,
/// sent as one message; then the payload `[tokenCount, hiddenSize]` float32 (little-endian,
/// the host order on every supported machine) as a second message with the same tag.
/// `kind` is 0 for activations, 2 for gradients travelling backwards (training); 1 marks an abort frame (all counts 0 except `payloadBytes`,
/// whose payload is the UTF-8 reason the sending stage failed), so a failing stage makes the
/// next one fail at once instead of waiting for its receive deadline.
public struct ActivationFrameHeader: Sendable, Equatable {
    /// `"TRDACT01"` as a little-endian Int64: identifies an activation frame.
    public static let magic: Int64 = 0x3130_5443_4144_5254
    public static let version: Int64 = 1
    /// Header size on the wire.
    public static let byteCount = fieldCount * 8
    static let fieldCount = 10
    /// `kind` of a frame carrying activations.
    public static let activationsKind: Int64 = 0
    /// `kind` of an abort frame (payload: the UTF-8 failure reason).
    public static let abortKind: Int64 = 1
    /// `kind` of a frame carrying the gradient of a micro-batch's activations, travelling
    /// backwards (same layout as activations).
    public static let gradientKind: Int64 = 2
    /// Longest failure reason an abort frame may carry.
    static let maxReasonBytes = 1 << 16

    /// Index of the micro-batch in the schedule being run.
    public var microBatch: Int
    /// KV-cache slot (sequence) the tokens belong to.
    public var slot: Int
    /// Position of the first token in the sequence.
    public var start: Int
    /// Rows of the payload.
    public var tokenCount: Int
    /// Columns of the payload (the model's hidden size).
    public var hiddenSize: Int
    /// Element type of the payload.
    public var dtype: ActivationDType
    /// Bytes of payload that follow; `tokenCount * hiddenSize * dtype.byteWidth` in a valid frame.
    public var payloadByteCount: Int
    /// `activationsKind` or `gradientKind` (abort frames are built by `sendAbort`).
    public var kind: Int64 = ActivationFrameHeader.activationsKind

    /// A header for `tokenCount x hiddenSize` float32 activations.
    public init(microBatch: Int, slot: Int, start: Int, tokenCount: Int, hiddenSize: Int) {
        self.microBatch = microBatch
        self.slot = slot
        self.start = start
        self.tokenCount = tokenCount
        self.hiddenSize = hiddenSize
        self.dtype = .float32
        self.payloadByteCount = tokenCount * hiddenSize * ActivationDType.float32.byteWidth
    }

    /// The header's wire bytes (no validation: tests use this to forge bad frames).
    public func encoded(magic: Int64 = ActivationFrameHeader.magic,
                        version: Int64 = ActivationFrameHeader.version,
                        kind: Int64 = ActivationFrameHeader.activationsKind) -> [UInt8] {
        let fields: [Int64] = [magic, version, Int64(microBatch), Int64(slot), Int64(start), Int64(tokenCount),
                               Int64(hiddenSize), Int64(dtype.rawValue), Int64(payloadByteCount),
                               kind]
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.byteCount)
        for field in fields {
            withUnsafeBytes(of: field.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    /// Decodes and validates wire bytes received from pipeline stage `peer`.
    /// - Throws: `ActivationFrameError` naming `peer` and the first field that is wrong.
    public static func decode(_ bytes: [UInt8], from peer: Int, expected: ActivationFrameExpectation,
                              limits: ActivationFrameLimits = ActivationFrameLimits()) throws -> ActivationFrameHeader {
        let f = fields(bytes)
        func fail(_ field: ActivationFrameError.Field, _ expectation: String, _ found: Int64) -> ActivationFrameError {
            ActivationFrameError(peer: peer, field: field, expected: expectation, found: String(found))
        }
        guard f[0] == magic else {
            throw ActivationFrameError(peer: peer, field: .magic, expected: hex(magic), found: hex(f[0]))
        }
        guard f[1] == version else { throw fail(.version, String(version), f[1]) }
        guard f[9] == expected.kind else {
            throw fail(.kind, "\(expected.kind) (\(expected.kind == gradientKind ? "gradients" : "activations"))", f[9])
        }
        try check(f[2], .microBatch, expected.microBatch, fail)
        try check(f[3], .slot, expected.slot, fail)
        try check(f[4], .start, expected.start, fail)
        guard f[5] >= 1, f[5] <= Int64(limits.maxTokens) else { throw fail(.tokenCount, "1...\(limits.maxTokens)", f[5]) }
        try check(f[5], .tokenCount, expected.tokenCount, fail)
        guard f[6] == Int64(expected.hiddenSize) else { throw fail(.hiddenSize, String(expected.hiddenSize), f[6]) }
        guard let dtype = ActivationDType(rawValue: Int32(truncatingIfNeeded: f[7])), Int64(dtype.rawValue) == f[7] else {
            throw fail(.dtype, "\(ActivationDType.float32.rawValue) (float32)", f[7])
        }
        // tokenCount <= maxTokens and hiddenSize is the caller's, so this product cannot overflow.
        let payload = f[5] * f[6] * Int64(dtype.byteWidth)
        guard payload <= Int64(limits.maxPayloadBytes) else {
            throw fail(.payloadByteCount, "at most \(limits.maxPayloadBytes)", payload)
        }
        guard f[8] == payload else { throw fail(.payloadByteCount, String(payload), f[8]) }
        var header = ActivationFrameHeader(microBatch: Int(f[2]), slot: Int(f[3]), start: Int(f[4]),
                                           tokenCount: Int(f[5]), hiddenSize: Int(f[6]))
        header.dtype = dtype
        header.kind = f[9]
        return header
    }

    /// The header's ten fields, decoded from little-endian bytes.
    static func fields(_ bytes: [UInt8]) -> [Int64] {
        precondition(bytes.count == byteCount, "an activation header is \(byteCount) bytes")
        return (0..<fieldCount).map { i in
            var v: Int64 = 0
            withUnsafeMutableBytes(of: &v) { $0.copyBytes(from: bytes[i * 8 ..< i * 8 + 8]) }
            return Int64(littleEndian: v)
        }
    }

    private static func check(_ value: Int64, _ field: ActivationFrameError.Field, _ expected: Int?,
                              _ fail: (ActivationFrameError.Field, String, Int64) -> ActivationFrameError) throws {
        if let expected {
            guard value == Int64(expected) else { throw fail(field, String(expected), value) }
        } else {
            guard value >= 0 else { throw fail(field, "a non-negative value", value) }
        }
    }

    static func hex(_ v: Int64) -> String { "0x" + String(UInt64(bitPattern: v), radix: 16) }
}

/// Element type of an activation payload (only float32 today; the code leaves room for more).
public enum ActivationDType: Int32, Sendable, Equatable {
    case float32 = 1
    public var byteWidth: Int { 4 }
}

/// What the receiving stage knows the next frame must say. `nil` fields are only checked for
/// being non-negative.
public struct ActivationFrameExpectation: Sendable, Equatable {
    public var hiddenSize: Int
    public var microBatch: Int?
    public var slot: Int?
    public var start: Int?
    public var tokenCount: Int?
    /// The frame kind that must arrive: activations (default) or gradients.
    public var kind: Int64 = ActivationFrameHeader.activationsKind

    public init(hiddenSize: Int, microBatch: Int? = nil, slot: Int? = nil, start: Int? = nil, tokenCount: Int? = nil) {
        precondition(hiddenSize > 0)
        self.hiddenSize = hiddenSize
        self.microBatch = microBatch
        self.slot = slot
        self.start = start
        self.tokenCount = tokenCount
    }
}

/// Bounds that keep a corrupt header from making the receiver allocate absurd buffers.
public struct ActivationFrameLimits: Sendable, Equatable {
    /// Most tokens one frame may carry.
    public var maxTokens: Int
    /// Most payload bytes one frame may carry.
    public var maxPayloadBytes: Int

    public init(maxTokens: Int = 1 << 20, maxPayloadBytes: Int = 1 << 32) {
        precondition(maxTokens > 0 && maxPayloadBytes > 0)
        self.maxTokens = maxTokens
        self.maxPayloadBytes = maxPayloadBytes
    }
}

/// One micro-batch's hidden states passed from one pipeline stage to the next.
public struct ActivationFrame: Sendable, Equatable {
    public var header: ActivationFrameHeader
    /// `[tokenCount, hiddenSize]` float32.
    public var values: [Float]

    public init(header: ActivationFrameHeader, values: [Float]) {
        precondition(values.count == header.tokenCount * header.hiddenSize,
                     "activations hold \(values.count) values, header says \(header.tokenCount) x \(header.hiddenSize)")
        self.header = header
        self.values = values
    }

    /// Default tag for forward activations on a pipeline group.
    public static let activationTag = MessageTag.activations.rawValue
    /// Default tag for gradients flowing backwards on a pipeline group.
    public static let gradientTag = MessageTag.gradients.rawValue

    /// Sends this frame (header, then payload) to stage `peer` of `group`. Stage `peer` must
    /// call `receive(from:)` naming this rank with the same `tag`.
    public func send(over group: any Communicator, to peer: Int, tag: Int = ActivationFrame.activationTag) throws {
        try group.send(header.encoded(kind: header.kind), to: peer, tag: tag)
        try values.withUnsafeBytes { try group.send($0, to: peer, tag: tag) }
    }

    /// Receives the next frame from stage `peer` of `group`, validating the header against
    /// `expected` and `limits` before the payload is received.
    /// - Throws: `ActivationFrameError` for a bad header, naming `peer` and the field;
    ///   `PipelineStageFailure` when `peer` sent an abort frame instead (see `sendAbort`);
    ///   `CollectiveError` for transport failures (timeout, wrong payload size, dead peer).
    public static func receive(over group: any Communicator, from peer: Int, tag: Int = ActivationFrame.activationTag,
                               expected: ActivationFrameExpectation,
                               limits: ActivationFrameLimits = ActivationFrameLimits()) throws -> ActivationFrame {
        let bytes = try group.receive(UInt8.self, count: ActivationFrameHeader.byteCount, from: peer, tag: tag)
        try throwIfAbort(bytes, over: group, from: peer, tag: tag)
        let header = try ActivationFrameHeader.decode(bytes, from: peer, expected: expected, limits: limits)
        var values = [Float](repeating: 0, count: header.tokenCount * header.hiddenSize)
        try values.withUnsafeMutableBytes { try group.receive(into: $0, from: peer, tag: tag) }
        return ActivationFrame(header: header, values: values)
    }
}

/// A malformed activation frame: which stage sent it, which field is wrong, what was expected.
public struct ActivationFrameError: Error, CustomStringConvertible, Equatable {
    public enum Field: String, Sendable {
        case magic, version, kind, microBatch, slot, start, tokenCount, hiddenSize, dtype, payloadByteCount
    }

    /// Pipeline-group rank (stage) that sent the frame.
    public var peer: Int
    public var field: Field
    public var expected: String
    public var found: String

    public var description: String {
        "activation frame from pipeline stage \(peer): \(field.rawValue) expected \(expected), found \(found)"
    }
}
