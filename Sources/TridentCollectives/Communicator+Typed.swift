/// An element type that collectives can reduce: `Float`, `Float16`, `Int32`.
/// (BFloat16 buffers are raw `UInt16`; use the raw-buffer API with `.bfloat16`.)
public protocol CollectiveElement: BitwiseCopyable, Sendable {
    static var collectiveType: CollectiveDataType { get }
}

extension Float: CollectiveElement { public static var collectiveType: CollectiveDataType { .float32 } }
extension Float16: CollectiveElement { public static var collectiveType: CollectiveDataType { .float16 } }
extension Int32: CollectiveElement { public static var collectiveType: CollectiveDataType { .int32 } }

/// Typed conveniences over the raw-buffer API. Every rank of the group must call each of
/// these in the same order with arrays of the same length.
extension Communicator {
    /// In-place all-reduce of `values` (same length on every rank).
    public func allReduce<T: CollectiveElement>(_ values: inout [T], op: ReduceOperation = .sum) throws {
        try values.withUnsafeMutableBytes { try allReduce($0, type: T.collectiveType, op: op) }
    }

    /// In-place all-reduce of BFloat16 values given as raw bit patterns.
    public func allReduceBFloat16(_ bits: inout [UInt16], op: ReduceOperation = .sum) throws {
        try bits.withUnsafeMutableBytes { try allReduce($0, type: .bfloat16, op: op) }
    }

    /// Returns every rank's `values` concatenated in rank order: `[size * values.count]`.
    public func allGather<T: BitwiseCopyable>(_ values: [T]) throws -> [T] {
        guard let first = values.first else { return [] }
        var output = [T](repeating: first, count: values.count * size)
        try values.withUnsafeBytes { input in
            try output.withUnsafeMutableBytes { try allGather(input, into: $0) }
        }
        return output
    }

    /// Reduces `values` (`[size * chunk]`) across ranks and returns this rank's chunk `[chunk]`.
    public func reduceScatter<T: CollectiveElement>(_ values: [T], op: ReduceOperation = .sum) throws -> [T] {
        precondition(values.count % size == 0, "reduceScatter: \(values.count) elements not divisible by \(size) ranks")
        guard let first = values.first else { return [] }
        var output = [T](repeating: first, count: values.count / size)
        try values.withUnsafeBytes { input in
            try output.withUnsafeMutableBytes { try reduceScatter(input, into: $0, type: T.collectiveType, op: op) }
        }
        return output
    }

    /// Replaces `values` on every rank with `root`'s values (same length on every rank).
    public func broadcast<T: BitwiseCopyable>(_ values: inout [T], root: Int) throws {
        try values.withUnsafeMutableBytes { try broadcast($0, root: root) }
    }

    /// Sends `values` to `peer`.
    public func send<T: BitwiseCopyable>(_ values: [T], to peer: Int, tag: Int) throws {
        try values.withUnsafeBytes { try send($0, to: peer, tag: tag) }
    }

    /// Receives exactly `count` elements from `peer`.
    public func receive<T: BitwiseCopyable>(_ type: T.Type, count: Int, from peer: Int, tag: Int) throws -> [T] {
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: count * MemoryLayout<T>.stride,
                                                           alignment: MemoryLayout<T>.alignment)
        defer { bytes.deallocate() }
        try receive(into: bytes, from: peer, tag: tag)
        return Array(bytes.bindMemory(to: T.self))
    }
}
