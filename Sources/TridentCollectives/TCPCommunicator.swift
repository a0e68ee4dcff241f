import Foundation
import Synchronization

/// A `Communicator` whose ranks are processes connected by TCP (one host or many).
///
/// Created once per process with `connect(_:options:)` (world group); sub-groups come from
/// `split`, reuse the same connections and carry their group id in every frame. Small
/// all-reduces use recursive doubling (non-power-of-two sizes fold the extra ranks in and
/// out), large ones a segmented ring (reduce-scatter + all-gather). A receiver thread per peer
/// keeps sockets drained, so simultaneous large sends never deadlock; heartbeats make a dead
/// or hung peer an error on every rank within `livenessTimeout`.
///
/// Every member of the group must call each collective, in the same order; one operation at
/// a time per communicator. Call `close()` on every rank when done.
public final class TCPCommunicator: Communicator, CollectiveAlgorithmReporting, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    public let groupName: String
    /// World ranks of this group's members, indexed by group rank.
    public let members: [Int]

    let mesh: TCPMesh
    let groupID: UInt64
    let poison = CollectivePoison()
    let sharedMemoryState = Mutex<SharedMemoryState>(.unknown)
    private let counters = Mutex<(sequence: Int64, splits: UInt64, algorithm: String)>((0, 0, "none"))

    /// Bytes up to which `allReduce` uses recursive doubling instead of the ring.
    static let smallMessageLimit = 64 * 1024
    /// Ring segment size: receive and reduce of one segment overlaps the transfer of the next.
    static let segmentBytes = 512 * 1024

    init(mesh: TCPMesh, groupID: UInt64, members: [Int], groupName: String) {
        precondition(members.contains(mesh.rank), "this process must be a member of its group")
        self.mesh = mesh
        self.groupID = groupID
        self.members = members
        self.groupName = groupName
        self.rank = members.firstIndex(of: mesh.rank)!
        self.size = members.count
    }

    /// Joins the job described by `rendezvous`: world rank 0 serves the rendezvous store,
    /// every rank connects to every other, authenticated with the job secret. Every rank of
    /// the world must call this.
    public static func connect(_ rendezvous: TCPRendezvous,
                               options: CommunicatorOptions = CommunicatorOptions()) throws -> TCPCommunicator {
        let mesh = try TCPMesh.establish(rendezvous, options: options)
        return TCPCommunicator(mesh: mesh, groupID: 0, members: Array(0..<rendezvous.worldSize), groupName: "world")
    }

    /// Orderly shutdown of the connections shared by this communicator and its splits.
    /// Every world rank should call it (on any one communicator) when done.
    public func close() { mesh.close() }

    /// Drops all connections abruptly, as if this process had crashed (for fault tests).
    public func abortConnectionsForTesting() { mesh.abortConnections() }

    public var lastAlgorithm: String { counters.withLock { $0.algorithm } }

    func setAlgorithm(_ name: String) { counters.withLock { $0.algorithm = name } }

    func nextSplitIndex() -> UInt64 { counters.withLock { c in c.splits += 1; return c.splits } }

    /// Runs one operation: poison check, a fresh tag, the deadline, error translation.
    func perform<T>(_ operation: String, _ body: (TCPOperation) throws(TCPMeshFailure) -> T) throws -> T {
        try run(operation, tag: { counters.withLock { c -> Int64 in c.sequence += 1; return -c.sequence } }, body)
    }

    /// Runs a point-to-point operation with a caller-chosen tag (>= 0).
    func performTagged<T>(_ operation: String, tag: Int, _ body: (TCPOperation) throws(TCPMeshFailure) -> T) throws -> T {
        precondition(tag >= 0, "point-to-point tags must be >= 0, got \(tag)")
        return try run(operation, tag: { Int64(tag) }, body)
    }

    /// Poison check, then `body` with the tag (taken once the check passed) and the deadline;
    /// a failure poisons the mesh and is translated for the caller.
    private func run<T>(_ operation: String, tag: () -> Int64,
                        _ body: (TCPOperation) throws(TCPMeshFailure) -> T) throws -> T {
        try poison.run(operation: operation, rank: rank, group: groupName) {
            let started = ContinuousClock.now
            let context = TCPOperation(communicator: self, tag: tag(),
                                       deadline: TCPDeadline(after: mesh.options.operationTimeout))
            do throws(TCPMeshFailure) {
                if let failure = mesh.currentFailure { throw failure }
                return try body(context)
            } catch {
                mesh.fail(error)
                throw translate(error, operation: operation, elapsed: ContinuousClock.now - started)
            }
        }
    }

    private func translate(_ failure: TCPMeshFailure, operation: String, elapsed: Duration) -> CollectiveError {
        let groupPeer = failure.worldPeer.flatMap { members.firstIndex(of: $0) }
        var detail = failure.detail
        if let worldPeer = failure.worldPeer, groupPeer == nil { detail = "world rank \(worldPeer): " + detail }
        if groupName != "world", let groupPeer, let worldPeer = failure.worldPeer, groupPeer != worldPeer {
            detail = "world rank \(worldPeer): " + detail
        }
        return CollectiveError(failure.kind, operation: operation, rank: rank, peer: groupPeer,
                               group: groupName, detail: detail, elapsed: elapsed)
    }
}

/// One running operation: its tag and deadline, with sends/receives in group ranks.
struct TCPOperation {
    let communicator: TCPCommunicator
    let tag: Int64
    let deadline: TCPDeadline

    func send(_ bytes: UnsafeRawBufferPointer, to groupPeer: Int) throws(TCPMeshFailure) {
        try communicator.mesh.send(bytes, to: communicator.members[groupPeer], group: communicator.groupID,
                                   tag: tag, deadline: deadline)
    }

    func take(from groupPeer: Int) throws(TCPMeshFailure) -> [UInt8] {
        try communicator.mesh.take(from: communicator.members[groupPeer], group: communicator.groupID,
                                   tag: tag, deadline: deadline)
    }

    /// Receives exactly `buffer.count` bytes from `groupPeer`.
    func receive(into buffer: UnsafeMutableRawBufferPointer, from groupPeer: Int) throws(TCPMeshFailure) {
        let bytes = try take(from: groupPeer)
        guard bytes.count == buffer.count else {
            throw TCPMeshFailure(kind: .protocolViolation, worldPeer: communicator.members[groupPeer],
                                 detail: "expected \(buffer.count) bytes, received \(bytes.count)")
        }
        if !bytes.isEmpty { bytes.withUnsafeBytes { buffer.copyMemory(from: $0) } }
    }
}
