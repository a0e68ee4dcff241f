import Synchronization

/// Recycles large float buffers of the training step (activations, GEMM packing space): a
/// step allocates the same sizes every micro-batch, and fresh memory from the system costs a
/// page fault and a page clear per 4 KiB on first touch (about a tenth of a SmolLM2 step).
/// A returned block is kept, keyed by its exact size, and handed to the next request of
/// that size.
///
/// At most `limitBytes` are kept idle (beyond that, returned memory goes back to the
/// system), so peak memory grows by no more than that. Shared by every thread of the process
/// (tensor ranks run as threads); the lists are guarded by a mutex, taken once per call.
public enum RecycledMemory {
    /// Idle memory kept for reuse, at most.
    public static let limitBytes = 1 << 30

    private struct Cache: ~Copyable {
        /// Addresses (as integers: the lock holds only Sendable values) of idle blocks, by float count.
        var idle: [Int: [UInt]] = [:]
        var idleBytes = 0
    }

    private static let cache = Mutex(Cache())

    /// Storage for `count` floats (uninitialised, 64-byte aligned): a recycled block of that
    /// size, or a new one. Give it back with `give(_:_:)` and the same count.
    public static func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        let reused = cache.withLock { cache -> UInt? in
            guard let address = cache.idle[count]?.popLast() else { return nil }
            cache.idleBytes -= count * MemoryLayout<Float>.stride
            return address
        }
        if let reused, let block = UnsafeMutablePointer<Float>(bitPattern: reused) { return block }
        return UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(count, 1))
    }

    /// Returns storage from `take(count)`; it is kept for reuse or freed.
    public static func give(_ block: UnsafeMutablePointer<Float>, _ count: Int) {
        let address = UInt(bitPattern: block)
        let kept = cache.withLock { cache -> Bool in
            let bytes = count * MemoryLayout<Float>.stride
            guard cache.idleBytes + bytes <= limitBytes else { return false }
            cache.idle[count, default: []].append(address)
            cache.idleBytes += bytes
            return true
        }
        if !kept { UnsafeMutableRawPointer(block).deallocate() }
    }
}
