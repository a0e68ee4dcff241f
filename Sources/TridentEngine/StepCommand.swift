import TridentCollectives
import TridentModel

/// The driver's instruction to every rank for one step, broadcast over the world group.
///
/// A forward step carries a batch of micro-batches (`SequenceChunk`), each naming a
/// *global* sequence slot (see `ModelPlacement`); every replica runs the ones in its slots.
///
/// Wire format, all little-endian Int32, in up to three broadcasts from the driver:
/// 1. header `[magic, opcode, microBatchCount, tokenCount, 0, 0, 0, 0]`;
/// 2. (forward only) `microBatchCount` descriptors `[slot, start, tokens, logits]`;
/// 3. (forward only) the `tokenCount` token ids of all micro-batches, concatenated.
/// Workers validate every field against the placement and the model before acting on it.
public struct StepCommand: Sendable, Equatable {
    public enum Opcode: Int32, Sendable {
        case forward = 1, statistics = 2, shutdown = 3
        /// Zero every rank's timings and start a new measurement window (benchmarks).
        case resetStatistics = 4
    }

    public var opcode: Opcode
    /// The micro-batches of a `.forward` step, in the order their logits are returned.
    public var microBatches: [SequenceChunk] = []

    /// `"TSTP"`: identifies a step header.
    public static let magic: Int32 = 0x5054_5354
    public static let headerCount = 8
    static let descriptorCount = 4
    /// Most tokens one step may carry.
    public static let maxTokens = 1 << 20
    /// Most micro-batches one step may carry.
    public static let maxMicroBatches = 1 << 16

    public init(opcode: Opcode, microBatches: [SequenceChunk] = []) {
        self.opcode = opcode
        self.microBatches = microBatches
    }

    /// Driver side: broadcasts this command from `root`. Every rank of `group` must call
    /// `broadcast` (root) or `receive` (others) in step.
    public func broadcast(over group: any Communicator, root: Int = 0) throws {
        let tokenCount = microBatches.reduce(0) { $0 + $1.tokens.count }
        var header: [Int32] = [Self.magic, opcode.rawValue, Int32(microBatches.count), Int32(tokenCount), 0, 0, 0, 0]
        try header.withUnsafeMutableBytes { try group.broadcast($0, root: root) }
        guard opcode == .forward, !microBatches.isEmpty else { return }
        var descriptors: [Int32] = []
        descriptors.reserveCapacity(microBatches.count * Self.descriptorCount)
        for mb in microBatches {
            descriptors += [Int32(mb.slot), Int32(mb.start), Int32(mb.tokens.count), Self.code(mb.logits)]
        }
        try descriptors.withUnsafeMutableBytes { try group.broadcast($0, root: root) }
        var ids = microBatches.flatMap(\.tokens)
        try ids.withUnsafeMutableBytes { try group.broadcast($0, root: root) }
    }

    /// Worker side: receives the next command broadcast from `root` and validates it: every
    /// slot below `slotCount`, every micro-batch inside `capacity` positions, every token id
    /// below `vocabularySize`.
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
        let count = Int(header[2]), tokenCount = Int(header[3])
        guard opcode == .forward else {
            guard count == 0, tokenCount == 0 else { throw StepCommandError.malformed("\(opcode) step carries data") }
            return StepCommand(opcode: opcode)
        }
        guard (1...maxMicroBatches).contains(count) else {
            throw StepCommandError.malformed("\(count) micro-batches, expected 1...\(maxMicroBatches)")
        }
        guard (count...maxTokens).contains(tokenCount) else {
            throw StepCommandError.malformed("\(tokenCount) tokens for \(count) micro-batches (at most \(maxTokens))")
        }
        var descriptors = [Int32](repeating: 0, count: count * descriptorCount)
        try descriptors.withUnsafeMutableBytes { try group.broadcast($0, root: root) }
        var ids = [Int32](repeating: 0, count: tokenCount)
        try ids.withUnsafeMutableBytes { try group.broadcast($0, root: root) }
        if let bad = ids.first(where: { $0 < 0 || Int($0) >= vocabularySize }) {
            throw StepCommandError.malformed("token id \(bad) outside vocabulary of \(vocabularySize)")
        }
        var microBatches: [SequenceChunk] = []
        var offset = 0
        for m in 0..<count {
            let d = descriptors[m * descriptorCount ..< (m + 1) * descriptorCount].map(Int.init)
            let (slot, start, length) = (d[0], d[1], d[2])
            guard (0..<slotCount).contains(slot) else {
                throw StepCommandError.malformed("micro-batch \(m): slot \(slot) outside 0..<\(slotCount)")
            }
            guard length >= 1, offset + length <= tokenCount else {
                throw StepCommandError.malformed("micro-batch \(m): \(length) tokens, \(tokenCount - offset) left")
            }
            guard start >= 0, start + length <= capacity else {
                throw StepCommandError.malformed("micro-batch \(m): positions \(start)..<\(start + length) outside the capacity \(capacity)")
            }
            guard let logits = decode(Int32(d[3])) else {
                throw StepCommandError.malformed("micro-batch \(m): logits code \(d[3])")
            }
            microBatches.append(SequenceChunk(slot: slot, start: start, tokens: Array(ids[offset ..< offset + length]),
                                                   logits: logits))
            offset += length
        }
        guard offset == tokenCount else {
            throw StepCommandError.malformed("micro-batches hold \(offset) tokens, header says \(tokenCount)")
        }
        return StepCommand(opcode: .forward, microBatches: microBatches)
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
    public var description: String {
        switch self { case .malformed(let s): return "malformed step command from the driver: \(s)" }
    }
}
