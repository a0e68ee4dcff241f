import Dispatch
import Synchronization

/// A communicator that forwards every call to `inner` and adds up the wall-clock time spent in
/// them, so a model stage can report communication time without wrapping each call site:
/// compute time is then a pass's time minus the communication time within it.
///
/// Same semantics, errors and deadlines as `inner`. `split` returns `inner`'s new group, not
/// timed. The counter is atomic, so calls from several threads (async variants) are all counted.
public final class TimedCommunicator: Communicator {
    /// The communicator every call goes to.
    public let inner: any Communicator
    private let nanoseconds = Atomic<UInt64>(0)

    public init(_ inner: any Communicator) { self.inner = inner }

    /// Seconds spent inside this communicator's calls since creation or the last `reset`.
    public var seconds: Double { Double(nanoseconds.load(ordering: .relaxed)) / 1e9 }

    /// Sets `seconds` back to zero.
    public func reset() { nanoseconds.store(0, ordering: .relaxed) }

    @inline(__always)
    private func timed<T>(_ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { nanoseconds.add(DispatchTime.now().uptimeNanoseconds &- start, ordering: .relaxed) }
        return try body()
    }

    public var rank: Int { inner.rank }
    public var size: Int { inner.size }
    public var groupName: String { inner.groupName }
    public var sendsAreBuffered: Bool { inner.sendsAreBuffered }

    public func allReduce(_ buffer: UnsafeMutableRawBufferPointer, type: CollectiveDataType,
                          op: ReduceOperation) throws {
        try timed { try inner.allReduce(buffer, type: type, op: op) }
    }

    public func allGather(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        try timed { try inner.allGather(input, into: output) }
    }

    public func reduceScatter(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                              type: CollectiveDataType, op: ReduceOperation) throws {
        try timed { try inner.reduceScatter(input, into: output, type: type, op: op) }
    }

    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        try timed { try inner.broadcast(buffer, root: root) }
    }

    public func send(_ buffer: UnsafeRawBufferPointer, to peer: Int, tag: Int) throws {
        try timed { try inner.send(buffer, to: peer, tag: tag) }
    }

    public func receive(into buffer: UnsafeMutableRawBufferPointer, from peer: Int, tag: Int) throws {
        try timed { try inner.receive(into: buffer, from: peer, tag: tag) }
    }

    public func barrier() throws {
        try timed { try inner.barrier() }
    }

    public func split(color: Int, key: Int) throws -> any Communicator {
        try timed { try inner.split(color: color, key: key) }
    }
}
