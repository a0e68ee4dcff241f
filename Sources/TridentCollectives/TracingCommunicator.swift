#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A communicator that forwards every call to `inner` and records it as a timeline span
/// (`TraceRecorder`) named after the operation and the group (`all-reduce tp[0,1]`,
/// `send to 1 pp[0,2]`) with its byte count: on the recorder's main row when called from the
/// thread that created this communicator, on the asynchronous row from any other thread (the
/// `...Async` variants' background threads).
///
/// Same semantics, errors and deadlines as `inner`. `split` returns a traced communicator over
/// `inner`'s new group with the same recorder, so every group built from a traced world is
/// traced. Wrap only when tracing: untraced runs keep using `inner` and pay nothing.
public final class TracingCommunicator: Communicator, @unchecked Sendable {
    /// The communicator every call goes to.
    public let inner: any Communicator
    public let recorder: TraceRecorder
    /// The thread whose calls go on the main row.
    private let owner: pthread_t

    public init(_ inner: any Communicator, recorder: TraceRecorder) {
        self.inner = inner
        self.recorder = recorder
        self.owner = pthread_self()
    }

    public var rank: Int { inner.rank }
    public var size: Int { inner.size }
    public var groupName: String { inner.groupName }
    public var sendsAreBuffered: Bool { inner.sendsAreBuffered }

    /// Runs `body` and records it (also when it throws).
    private func traced<T>(_ operation: String, _ kind: TraceKind, bytes: Int, _ body: () throws -> T) rethrows -> T {
        let start = recorder.now()
        defer {
            let row = pthread_equal(pthread_self(), owner) != 0 ? TraceRecorder.mainRow : TraceRecorder.asyncRow
            recorder.add(TraceSpan(name: "\(operation) \(inner.groupName)", kind: kind, row: row, start: start,
                                   duration: recorder.now() - start, bytes: bytes))
        }
        return try body()
    }

    public func allReduce(_ buffer: UnsafeMutableRawBufferPointer, type: CollectiveDataType,
                          op: ReduceOperation) throws {
        try traced("all-reduce", .allReduce, bytes: buffer.count) { try inner.allReduce(buffer, type: type, op: op) }
    }

    public func allGather(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        try traced("all-gather", .collective, bytes: output.count) { try inner.allGather(input, into: output) }
    }

    public func reduceScatter(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                              type: CollectiveDataType, op: ReduceOperation) throws {
        try traced("reduce-scatter", .collective, bytes: input.count) {
            try inner.reduceScatter(input, into: output, type: type, op: op)
        }
    }

    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        try traced("broadcast from \(root)", .collective, bytes: buffer.count) { try inner.broadcast(buffer, root: root) }
    }

    public func send(_ buffer: UnsafeRawBufferPointer, to peer: Int, tag: Int) throws {
        try traced("send to \(peer)", .send, bytes: buffer.count) { try inner.send(buffer, to: peer, tag: tag) }
    }

    public func receive(into buffer: UnsafeMutableRawBufferPointer, from peer: Int, tag: Int) throws {
        try traced("receive from \(peer)", .receive, bytes: buffer.count) { try inner.receive(into: buffer, from: peer, tag: tag) }
    }

    public func barrier() throws {
        try traced("barrier", .collective, bytes: 0) { try inner.barrier() }
    }

    public func split(color: Int, key: Int) throws -> any Communicator {
        TracingCommunicator(try traced("split", .collective, bytes: 0) { try inner.split(color: color, key: key) },
                            recorder: recorder)
    }
}
