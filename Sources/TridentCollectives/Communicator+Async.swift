/// Raw buffers carried to a background thread; the caller guarantees they outlive the handle.
struct UnsafeTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Asynchronous variants: each starts the collective on a background thread and returns a handle.
///
/// Every rank of the group must issue the same collectives in the same order, as for the
/// blocking versions. Do not call another operation on the same communicator before `wait()`
/// returns; to keep several operations in flight, submit them to one `CollectiveQueue`.
/// Buffers must stay valid and unmodified until `wait()` returns.
extension Communicator {
    /// Asynchronous `allReduce`; see `Communicator.allReduce(_:type:op:)`.
    public func allReduceAsync(_ buffer: UnsafeMutableRawBufferPointer, type: CollectiveDataType,
                               op: ReduceOperation, on queue: CollectiveQueue? = nil) -> CollectiveHandle {
        let box = UnsafeTransfer(buffer)
        return Self.start(queue) { try self.allReduce(box.value, type: type, op: op) }
    }

    /// Asynchronous `allGather`; see `Communicator.allGather(_:into:)`.
    public func allGatherAsync(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                               on queue: CollectiveQueue? = nil) -> CollectiveHandle {
        let box = UnsafeTransfer((input, output))
        return Self.start(queue) { try self.allGather(box.value.0, into: box.value.1) }
    }

    /// Asynchronous `reduceScatter`; see `Communicator.reduceScatter(_:into:type:op:)`.
    public func reduceScatterAsync(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                                   type: CollectiveDataType, op: ReduceOperation,
                                   on queue: CollectiveQueue? = nil) -> CollectiveHandle {
        let box = UnsafeTransfer((input, output))
        return Self.start(queue) { try self.reduceScatter(box.value.0, into: box.value.1, type: type, op: op) }
    }

    /// Asynchronous `broadcast`; see `Communicator.broadcast(_:root:)`.
    public func broadcastAsync(_ buffer: UnsafeMutableRawBufferPointer, root: Int,
                               on queue: CollectiveQueue? = nil) -> CollectiveHandle {
        let box = UnsafeTransfer(buffer)
        return Self.start(queue) { try self.broadcast(box.value, root: root) }
    }

    /// Asynchronous `send`; see `Communicator.send(_:to:tag:)`.
    public func sendAsync(_ buffer: UnsafeRawBufferPointer, to peer: Int, tag: Int,
                          on queue: CollectiveQueue? = nil) -> CollectiveHandle {
        let box = UnsafeTransfer(buffer)
        return Self.start(queue) { try self.send(box.value, to: peer, tag: tag) }
    }

    /// Asynchronous `receive`; see `Communicator.receive(into:from:tag:)`.
    public func receiveAsync(into buffer: UnsafeMutableRawBufferPointer, from peer: Int, tag: Int,
                             on queue: CollectiveQueue? = nil) -> CollectiveHandle {
        let box = UnsafeTransfer(buffer)
        return Self.start(queue) { try self.receive(into: box.value, from: peer, tag: tag) }
    }

    private static func start(_ queue: CollectiveQueue?,
                              _ work: @escaping @Sendable () throws -> Void) -> CollectiveHandle {
        if let queue { return queue.submit(work) }
        return CollectiveHandle(work)
    }
}
