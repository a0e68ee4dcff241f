import TridentCollectives
import TridentModel

/// The driver's instruction to every rank for one step, broadcast over the world group.
///
/// Wire format: a fixed header of `StepCommand.headerCount` Int32 values
/// `[opcode, slot, start, tokenCount, logits, 0, 0, 0]`, then (for `.forward`) `tokenCount`
/// Int32 token ids in a second broadcast. Workers validate every field.
public struct StepCommand: Sendable, Equatable {
    public enum Opcode: Int32, Sendable { case forward = 1, statistics = 2, shutdown = 3 }

    public var opcode: Opcode
    public var slot: Int = 0
    public var start: Int = 0
    public var tokens: [Int32] = []
    public var logits: LogitsRequest = .none

    public static let headerCount = 8
    /// Longest token list a command may carry.
    public static let maxTokens = 1 << 20

    public init(opcode: Opcode, slot: Int = 0, start: Int = 0, tokens: [Int32] = [], logits: LogitsRequest = .none) {
        self.opcode = opcode
        self.slot = slot
        self.start = start
        self.tokens = tokens
        self.logits = logits
    }

    /// Root side: broadcasts this command from `root`. Every rank of `group` must call
    /// `broadcast` (root) or `receive` (others) in step.
    public func broadcast(over group: any Communicator, root: Int = 0) throws {
        var header: [Int32] = [opcode.rawValue, Int32(slot), Int32(start), Int32(tokens.count),
                               StepCommand.code(logits), 0, 0, 0]
        try header.withUnsafeMutableBytes { try group.broadcast($0, root: root) }
        if opcode == .forward && !tokens.isEmpty {
            var ids = tokens
            try ids.withUnsafeMutableBytes { try group.broadcast($0, root: root) }
        }
    }

    /// Non-root side: receives the next command broadcast from `root`, validating it.
    public static func receive(over group: any Communicator, root: Int = 0,
                               vocabularySize: Int) throws -> StepCommand {
        var header = [Int32](repeating: 0, count: headerCount)
        try header.withUnsafeMutableBytes { try group.broadcast($0, root: root) }
        guard let opcode = Opcode(rawValue: header[0]) else {
            throw StepCommandError.malformed("unknown opcode \(header[0])")
        }
        let count = Int(header[3])
        guard header[1] >= 0, header[2] >= 0, count >= 0, count <= maxTokens,
              let logits = decode(header[4]) else {
            throw StepCommandError.malformed("bad header \(header)")
        }
        var command = StepCommand(opcode: opcode, slot: Int(header[1]), start: Int(header[2]), logits: logits)
        if opcode == .forward && count > 0 {
            var ids = [Int32](repeating: 0, count: count)
            try ids.withUnsafeMutableBytes { try group.broadcast($0, root: root) }
            if let bad = ids.first(where: { $0 < 0 || Int($0) >= vocabularySize }) {
                throw StepCommandError.malformed("token id \(bad) outside vocabulary of \(vocabularySize)")
            }
            command.tokens = ids
        }
        return command
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
