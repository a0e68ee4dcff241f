import Foundation

/// Keys and values of past positions, per layer, for a fixed number of sequence slots.
///
/// Layout per layer: keys and values are each `[slots, capacity, kvHeads, headDimension]`
/// float32, so one slot's keys for one layer are contiguous `[positions, kvHeads, headDim]`
/// (the shape the attention kernel reads). Under tensor parallelism `kvHeads` is the number
/// of KV heads this rank computes. Memory is reserved up front but pages are only touched
/// as positions are written.
public final class KVCache: @unchecked Sendable {
    public let layerCount: Int
    public let slotCount: Int
    /// Positions each slot can hold.
    public let capacity: Int
    public let kvHeads: Int
    public let headDimension: Int
    /// Positions filled so far, per slot.
    public private(set) var lengths: [Int]

    private let keys: [UnsafeMutablePointer<Float>]    // per layer
    private let values: [UnsafeMutablePointer<Float>]  // per layer

    public init(layerCount: Int, slotCount: Int = 1, capacity: Int, kvHeads: Int, headDimension: Int) {
        precondition(layerCount >= 0 && slotCount > 0 && capacity > 0 && kvHeads > 0 && headDimension > 0)
        self.layerCount = layerCount
        self.slotCount = slotCount
        self.capacity = capacity
        self.kvHeads = kvHeads
        self.headDimension = headDimension
        self.lengths = Array(repeating: 0, count: slotCount)
        let perLayer = slotCount * capacity * kvHeads * headDimension
        // calloc: untouched pages stay unbacked, so a large capacity costs address space only.
        keys = (0..<layerCount).map { _ in calloc(perLayer, MemoryLayout<Float>.stride)!.assumingMemoryBound(to: Float.self) }
        values = (0..<layerCount).map { _ in calloc(perLayer, MemoryLayout<Float>.stride)!.assumingMemoryBound(to: Float.self) }
    }

    deinit {
        for p in keys { free(p) }
        for p in values { free(p) }
    }

    /// Floats per position (`kvHeads * headDimension`).
    public var rowWidth: Int { kvHeads * headDimension }

    /// Keys of `slot` in `layer`, `[capacity, kvHeads, headDimension]`.
    public func keys(layer: Int, slot: Int) -> UnsafeMutablePointer<Float> {
        keys[layer] + slot * capacity * rowWidth
    }

    /// Values of `slot` in `layer`, `[capacity, kvHeads, headDimension]`.
    public func values(layer: Int, slot: Int) -> UnsafeMutablePointer<Float> {
        values[layer] + slot * capacity * rowWidth
    }

    /// Checks that `count` more positions fit in `slot` starting at `start`.
    public func checkRoom(slot: Int, start: Int, count: Int) throws {
        guard slot >= 0 && slot < slotCount else {
            throw KVCacheError.noSuchSlot(slot: slot, slotCount: slotCount)
        }
        guard start >= 0, start + count <= capacity else {
            throw KVCacheError.full(slot: slot, needed: start + count, capacity: capacity)
        }
    }

    /// Records that `slot` now holds `length` positions (after a forward step wrote them).
    public func setLength(_ length: Int, slot: Int) {
        precondition(length <= capacity)
        lengths[slot] = length
    }

    /// Empties `slot` so a new sequence can use it.
    public func reset(slot: Int) { lengths[slot] = 0 }

    /// Bytes reserved for keys and values.
    public var reservedBytes: Int { 2 * layerCount * slotCount * capacity * rowWidth * MemoryLayout<Float>.stride }
}

/// Why a forward step could not use the KV cache.
public enum KVCacheError: Error, CustomStringConvertible, Equatable {
    case full(slot: Int, needed: Int, capacity: Int)
    case noSuchSlot(slot: Int, slotCount: Int)

    public var description: String {
        switch self {
        case let .full(slot, needed, capacity):
            return "KV cache slot \(slot) needs \(needed) positions but holds \(capacity); raise the context size"
        case let .noSuchSlot(slot, count):
            return "KV cache has \(count) slots; slot \(slot) does not exist"
        }
    }
}
