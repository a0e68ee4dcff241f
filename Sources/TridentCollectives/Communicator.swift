/// The reduction applied element-wise by `allReduce` and `reduceScatter`.
public enum ReduceOperation: Sendable, Hashable, CaseIterable {
    case sum, max, min
}

/// Element type of a buffer handed to a reducing collective.
///
/// `float16` buffers hold IEEE half values, `bfloat16` buffers hold raw `UInt16` bit patterns
/// (the upper half of a Float32); both are reduced by converting each element to Float32,
/// combining, and rounding back (round-to-nearest-even).
public enum CollectiveDataType: Sendable, Hashable, CaseIterable {
    case float32, float16, bfloat16, int32

    /// Bytes per element.
    public var byteWidth: Int {
        switch self {
        case .float32, .int32: 4
        case .float16, .bfloat16: 2
        }
    }
}

/// A failure of a collective operation, naming the operation, this rank, the peer and the group.
///
/// `description` reads like
/// `rank 1: allReduce in group tp[0,1] failed: peer rank 0 disconnected (connection reset) after 3.2 s`.
public struct CollectiveError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, in categories a caller can switch on.
    public enum Kind: Sendable, Equatable {
        case timeout, peerDisconnected, peerFailed, protocolViolation,
             authenticationFailed, poisoned, invalidArgument, backend
    }

    public var kind: Kind
    /// The operation that failed, e.g. `"allReduce"`.
    public var operation: String
    /// This process's rank within `group`.
    public var rank: Int
    /// The peer (rank within `group`) that caused or witnessed the failure, when known.
    public var peer: Int?
    /// Group name, e.g. `"world"` or `"tp[0,1]"`.
    public var group: String
    /// Free-form specifics: what was expected, what was found.
    public var detail: String
    /// Time spent in the operation before it failed, when known.
    public var elapsed: Duration?

    public init(_ kind: Kind, operation: String, rank: Int, peer: Int? = nil, group: String,
                detail: String, elapsed: Duration? = nil) {
        self.kind = kind
        self.operation = operation
        self.rank = rank
        self.peer = peer
        self.group = group
        self.detail = detail
        self.elapsed = elapsed
    }

    public var description: String {
        var text = "rank \(rank): \(operation) in group \(group) failed: "
        let who = peer.map { "peer rank \($0)" } ?? "a peer"
        switch kind {
        case .timeout: text += "timed out waiting for \(who)"
        case .peerDisconnected: text += "\(who) disconnected"
        case .peerFailed: text += "\(who) failed"
        case .protocolViolation: text += "protocol violation" + (peer.map { " by peer rank \($0)" } ?? "")
        case .authenticationFailed: text += "authentication failed" + (peer.map { " for peer rank \($0)" } ?? "")
        case .poisoned: text += "communicator is unusable after an earlier error"
        case .invalidArgument: text += "invalid argument"
        case .backend: text += "backend error" + (peer.map { " (peer rank \($0))" } ?? "")
        }
        if !detail.isEmpty { text += " (\(detail))" }
        if let elapsed {
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            text += " after \(formatSeconds(seconds)) s"
        }
        return text
    }

    private func formatSeconds(_ seconds: Double) -> String {
        let tenths = (seconds * 10).rounded()
        return String(Int(tenths) / 10) + "." + String(Int(tenths) % 10)
    }
}

/// Deadlines shared by every backend.
public struct CommunicatorOptions: Sendable, Equatable {
    /// Upper bound for one whole operation (generous: big transfers on slow links).
    public var operationTimeout: Duration
    /// A dead or absent peer must surface as an error within this time.
    public var livenessTimeout: Duration

    public init(operationTimeout: Duration = .seconds(300), livenessTimeout: Duration = .seconds(10)) {
        self.operationTimeout = operationTimeout
        self.livenessTimeout = livenessTimeout
    }
}

/// A group of ranks that exchange data with collective operations.
///
/// Every member of the group must call each collective, in the same order, with buffers of
/// the same size (and, for `broadcast`, the same `root`). Operations block until this rank's
/// part is done. Every blocking call has a deadline (`CommunicatorOptions`); after any error
/// the communicator is poisoned and later calls throw `.poisoned` at once, naming the first error.
public protocol Communicator: AnyObject, Sendable {
    /// This process's rank within the group, `0..<size`.
    var rank: Int { get }
    /// Number of ranks in the group.
    var size: Int { get }
    /// Human-readable group name for error messages, e.g. `"world"`, `"tp[2,3]"`.
    var groupName: String { get }

    /// Element-wise reduction of `buffer` across all ranks; every rank receives the result in place.
    /// `buffer.count` must be a multiple of `type.byteWidth` and equal on every rank.
    func allReduce(_ buffer: UnsafeMutableRawBufferPointer, type: CollectiveDataType, op: ReduceOperation) throws
    /// Concatenates every rank's `input` in rank order: `output.count == size * input.count`.
    func allGather(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws
    /// Reduces `input` (`size * output.count` bytes) across ranks; rank `r` receives chunk `r`.
    func reduceScatter(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                       type: CollectiveDataType, op: ReduceOperation) throws
    /// Copies `root`'s buffer into every other rank's buffer (same byte count on every rank).
    func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws
    /// Point-to-point send to `peer`, matched by a `receive` on `peer` with the same `tag`.
    func send(_ buffer: UnsafeRawBufferPointer, to peer: Int, tag: Int) throws
    /// Point-to-point receive of exactly `buffer.count` bytes; a size mismatch is `.protocolViolation`.
    func receive(into buffer: UnsafeMutableRawBufferPointer, from peer: Int, tag: Int) throws
    /// Returns once every rank of the group has entered the barrier.
    func barrier() throws
    /// Collective over this group: members with equal `color` form a new group ordered by (key, rank).
    func split(color: Int, key: Int) throws -> any Communicator
    /// Whether `send` returns without waiting for the peer to call `receive` (messages are
    /// buffered on the receiving side). When true, two ranks may send to each other at the same
    /// time without deadlock; when false (MPI's rendezvous protocol for large messages) they may not.
    var sendsAreBuffered: Bool { get }
}

extension Communicator {
    /// Local and TCP communicators buffer every message on the receiving side.
    public var sendsAreBuffered: Bool { true }
}

/// Optional capability: a backend that can name the algorithm its last collective used
/// (e.g. `"ring"`, `"recursive-doubling"`, `"shared-memory"`), for benchmarks.
public protocol CollectiveAlgorithmReporting {
    /// Name of the algorithm used by the most recent `allReduce` on this rank.
    var lastAlgorithm: String { get }
}
