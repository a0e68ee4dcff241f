import TridentCollectives
import TridentModel

/// The driver's instruction to every rank for one step, broadcast over the world group.
///
/// A forward step carries chunks of sequences (`SequenceChunk`), each naming a *global*
/// sequence slot (see `ModelPlacement`); every replica runs the ones in its slots, fused into
/// `microBatches` pipeline micro-batches (fewer when the replica has fewer chunks).
///
/// Wire format, all little-endian Int32, in up to three broadcasts from the driver:
/// 1. header `[magic, opcode, chunkCount, tokenCount, microBatches, 0, 0, 0]`;
/// 2. (forward only) `chunkCount` descriptors `[slot, start, tokens, logits, prefixSource]`
///    (`prefixSource` -1 for none);
/// 3. (forward only) the `tokenCount` token ids of all chunks, concatenated.
/// Workers validate every field against the placement and the model before acting on it.
public struct StepCommand: Sendable, Equatable {
    public enum Opcode: Int32, Sendable {
        case forward = 1, statistics = 2, shutdown = 3
        /// Zero every rank's timings and start a new measurement window (benchmarks).
        case resetStatistics = 4
    }

    public var opcode: Opcode
    /// The chunks of a `.forward` step, in the order their logits are returned.
    public var chunks: [SequenceChunk] = []
    /// Pipeline micro-batches each replica groups its chunks into (at least 1).
    public var microBatches = 1

    /// `"TSTP"`: identifies a step header.
    public static let magic: Int32 = 0x5054_5354
    public static let headerCount = 8
    static let descriptorCount = 5
    /// Most tokens one step may carry.
    public static let maxTokens = 1 << 20
    /// Most chunks one step may carry.
    public static let maxChunks = 1 << 16

    public init(opcode: Opcode, chunks: [SequenceChunk] = [], microBatches: Int = 1) {
        precondition(microBatches >= 1)
        self.opcode = opcode
        self.chunks = chunks
        self.microBatches = microBatches
    }

    /// Driver side: broadcasts this command from `root`. Every rank of `group` must call
    /// `broadcast` (root) or `receive` (others) in step.
    public func broadcast(over group: any Communicator, root: Int = 0) throws {
        let tokenCount = chunks.reduce(0) { $0 + $1.tokens.count }
        var header: [Int32] = [Self.magic, opcode.rawValue, Int32(chunks.count), Int32(tokenCount),
                               opcode == .forward ? Int32(microBatches) : 0, 0, 0, 0]
        try header.withUnsafeMutableBytes { try group.broadcast($0, root: root) }
        guard opcode == .forward, !chunks.isEmpty else { return }
        var descriptors: [Int32] = []
        descriptors.reserveCapacity(chunks.count * Self.descriptorCount)
        for mb in chunks {
            descriptors += [Int32(mb.slot), Int32(mb.start), Int32(mb.tokens.count), Self.code(mb.logits),
                            Int32(mb.prefixSource ?? -1)]
        }
        try descriptors.withUnsafeMutableBytes { try group.broadcast($0, root: root) }
        var ids = chunks.flatMap(\.tokens)
        try ids.withUnsafeMutableBytes { try group.broadcast($0, root: root) }
    }

    /// Worker side: receives the next command broadcast from `root` and validates it: every
    /// slot below `slotCount`, every chunk inside `capacity` positions, every token id below
    /// `vocabularySize`, the counts within `maxChunks` and `maxTokens`.
    /// - Throws: `StepCommandError.malformed` naming the first bad field.
    public static func receive(over group: any Communicator, root: Int = 0, slotCount: Int, capacity: Int,
                               vocabularySize: Int) throws -> StepCommand {
        var header = [Int32](repeating: 0, count: headerCount)
        try header.withUnsafeMutableBytes { try group.broadcast($0, root: root) }
        guard header[0] == magic else {
            throw StepCommandError.malformed("header magic \(header[0]), expected \(magic)")
        }
        guard let opcode = Opcode(rawValue: header[1]) else {
            throw StepCommandError.malformed("unknown opcode \(header[1])")
        }
        let count = Int(header[2]), tokenCount = Int(header[3]), microBatches = Int(header[4])
        guard opcode == .forward else {
            guard count == 0, tokenCount == 0, microBatches == 0 else {
                throw StepCommandError.malformed("\(opcode) step carries data")
            }
            return StepCommand(opcode: opcode)
        }
        guard (1...maxChunks).contains(count) else {
            throw StepCommandError.malformed("\(count) chunks, expected 1...\(maxChunks)")
        }
        guard (count...maxTokens).contains(tokenCount) else {
            throw StepCommandError.malformed("\(tokenCount) tokens for \(count) chunks (at most \(maxTokens))")
        }
        guard (1...count).contains(microBatches) else {
            throw StepCommandError.malformed("\(microBatches) micro-batches for \(count) chunks")
        }
        var descriptors = [Int32](repeating: 0, count: count * descriptorCount)
        try descriptors.withUnsafeMutableBytes { try group.broadcast($0, root: root) }
        var ids = [Int32](repeating: 0, count: tokenCount)
        try ids.withUnsafeMutableBytes { try group.broadcast($0, root: root) }
        if let bad = ids.first(where: { $0 < 0 || Int($0) >= vocabularySize }) {
            throw StepCommandError.malformed("token id \(bad) outside vocabulary of \(vocabularySize)")
        }
        var chunks: [SequenceChunk] = []
        var offset = 0
        for m in 0..<count {
            let d = descriptors[m * descriptorCount ..< (m + 1) * descriptorCount].map(Int.init)
            let (slot, start, length) = (d[0], d[1], d[2])
            guard (0..<slotCount).contains(slot) else {
                throw StepCommandError.malformed("chunk \(m): slot \(slot) outside 0..<\(slotCount)")
            }
            guard length >= 1, offset + length <= tokenCount else {
                throw StepCommandError.malformed("chunk \(m): \(length) tokens, \(tokenCount - offset) left")
            }
            guard start >= 0, start + length <= capacity else {
                throw StepCommandError.malformed("chunk \(m): positions \(start)..<\(start + length) outside the capacity \(capacity)")
            }
            guard let logits = decode(Int32(d[3])) else {
                throw StepCommandError.malformed("chunk \(m): logits code \(d[3])")
            }
            let source = d[4] == -1 ? nil : d[4]
            if let source {
                guard (0..<slotCount).contains(source), source != slot, start >= 1 else {
                    throw StepCommandError.malformed("chunk \(m): prefix source slot \(source) for slot \(slot) at position \(start)")
                }
            }
            chunks.append(SequenceChunk(slot: slot, start: start, tokens: Array(ids[offset ..< offset + length]),
                                        logits: logits, prefixSource: source))
            offset += length
        }
        guard offset == tokenCount else {
            throw StepCommandError.malformed("chunks hold \(offset) tokens, header says \(tokenCount)")
        }
        return StepCommand(opcode: .forward, chunks: chunks, microBatches: microBatches)
    }

    /// Driver side: the size limits the workers enforce, checked before anything is sent.
    /// - Throws: `StepCommandError.tooLarge` naming the limit.
    public static func checkSize(_ chunks: [SequenceChunk]) throws {
        guard chunks.count <= maxChunks else {
            throw StepCommandError.tooLarge("\(chunks.count) chunks in one step (at most \(maxChunks))")
        }
        let tokens = chunks.reduce(0) { $0 + $1.tokens.count }
        guard tokens <= maxTokens else {
            throw StepCommandError.tooLarge("\(tokens) tokens in one step (at most \(maxTokens)); use fewer or shorter sequences at once")
        }
    }

    static func code(_ l: LogitsRequest) -> Int32 {
        switch l { case .none: 0; case .last: 1; case .all: 2 }
    }

    static func decode(_ c: Int32) -> LogitsRequest? {
        switch c { case 0: LogitsRequest.none; case 1: LogitsRequest.last; case 2: LogitsRequest.all; default: nil }
    }
}

/// A step command that failed validation on a worker.
public enum StepCommandError: Error, CustomStringConvertible {
    case malformed(String)
    /// Refused by the driver before sending: over the limits workers accept.
    case tooLarge(String)
    public var description: String {
        switch self {
        case .malformed(let s): return "malformed step command from the driver: \(s)"
        case .tooLarge(let s): return "step too large: \(s)"
        }
    }
}
