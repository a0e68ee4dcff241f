import Foundation
import TridentKernels

/// Keys and values of past positions, per layer, for a fixed number of sequence slots.
///
/// Layout per layer: keys and values are each `[slots, capacity, kvHeads, headDimension]`
/// elements of `type` (float32, or binary16 for half the memory), so one slot's keys for one
/// layer are contiguous `[positions, kvHeads, headDim]` (the shape the attention kernels read).
/// Under tensor parallelism `kvHeads` is the number of KV heads this rank computes. Memory is
/// reserved up front but pages are only touched as positions are written.
public final class KVCache: @unchecked Sendable {
    public let layerCount: Int
    public let slotCount: Int
    /// Positions each slot can hold.
    public let capacity: Int
    public let kvHeads: Int
    public let headDimension: Int
    /// How keys and values are stored.
    public let type: KVCacheType
    /// Positions filled so far, per slot.
    public private(set) var lengths: [Int]

    private let keys: [UnsafeMutableRawPointer]    // per layer
    private let values: [UnsafeMutableRawPointer]  // per layer

    public init(layerCount: Int, slotCount: Int = 1, capacity: Int, kvHeads: Int, headDimension: Int,
                type: KVCacheType = .f32) {
        precondition(layerCount >= 0 && slotCount > 0 && capacity > 0 && kvHeads > 0 && headDimension > 0)
        self.layerCount = layerCount
        self.slotCount = slotCount
        self.capacity = capacity
        self.kvHeads = kvHeads
        self.headDimension = headDimension
        self.type = type
        self.lengths = Array(repeating: 0, count: slotCount)
        let perLayer = slotCount * capacity * kvHeads * headDimension
        // calloc: untouched pages stay unbacked, so a large capacity costs address space only.
        keys = (0..<layerCount).map { _ in calloc(perLayer, type.byteCount)! }
        values = (0..<layerCount).map { _ in calloc(perLayer, type.byteCount)! }
    }

    deinit {
        for p in keys { free(p) }
        for p in values { free(p) }
    }

    /// Floats per position (`kvHeads * headDimension`).
    public var rowWidth: Int { kvHeads * headDimension }

    /// Keys of `slot` in `layer`, `[capacity, kvHeads, headDimension]` float32.
    /// - Precondition: `type == .f32` (any type: `cachedKeys`).
    public func keys(layer: Int, slot: Int) -> UnsafeMutablePointer<Float> {
        precondition(type == .f32, "the KV cache holds \(type), not float32")
        return keys[layer].assumingMemoryBound(to: Float.self) + slot * capacity * rowWidth
    }

    /// Values of `slot` in `layer`, `[capacity, kvHeads, headDimension]` float32.
    /// - Precondition: `type == .f32` (any type: `cachedValues`).
    public func values(layer: Int, slot: Int) -> UnsafeMutablePointer<Float> {
        precondition(type == .f32, "the KV cache holds \(type), not float32")
        return values[layer].assumingMemoryBound(to: Float.self) + slot * capacity * rowWidth
    }

    /// Keys of `slot` in `layer` as stored, `[capacity, kvHeads, headDimension]` of `type`.
    public func cachedKeys(layer: Int, slot: Int) -> CachedRows {
        CachedRows(keys[layer] + slot * capacity * rowWidth * type.byteCount, type: type)
    }

    /// Values of `slot` in `layer` as stored, `[capacity, kvHeads, headDimension]` of `type`.
    public func cachedValues(layer: Int, slot: Int) -> CachedRows {
        CachedRows(values[layer] + slot * capacity * rowWidth * type.byteCount, type: type)
    }

    /// Stores float32 `keys` and `values` (`[count, kvHeads, headDimension]` each) at positions
    /// `start ..< start + count` of `slot` in `layer`, rounded to `type`.
    /// - Precondition: the positions fit (`checkRoom`).
    public func store(keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>, count: Int, layer: Int, slot: Int,
                      start: Int) {
        precondition(start >= 0 && start + count <= capacity && slot >= 0 && slot < slotCount)
        let offset = (slot * capacity + start) * rowWidth, elements = count * rowWidth
        switch type {
        case .f32:
            (keys[layer].assumingMemoryBound(to: Float.self) + offset).update(from: k, count: elements)
            (values[layer].assumingMemoryBound(to: Float.self) + offset).update(from: v, count: elements)
        case .f16:
            HalfConversion.narrow(k, into: keys[layer].assumingMemoryBound(to: UInt16.self) + offset, count: elements)
            HalfConversion.narrow(v, into: values[layer].assumingMemoryBound(to: UInt16.self) + offset, count: elements)
        }
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

    /// Copies positions `0..<count` of `source` into `slot` in every layer (keys and values, as
    /// stored): two sequences whose prompts share their first `count` tokens share those rows.
    /// - Throws: `KVCacheError` for a slot outside the cache or a count beyond the capacity.
    public func copyPrefix(from source: Int, to slot: Int, count: Int) throws {
        try checkRoom(slot: source, start: 0, count: count)
        try checkRoom(slot: slot, start: 0, count: count)
        guard source != slot, count > 0 else { return }
        let bytes = count * rowWidth * type.byteCount, stride = capacity * rowWidth * type.byteCount
        for layer in 0..<layerCount {
            (keys[layer] + slot * stride).copyMemory(from: keys[layer] + source * stride, byteCount: bytes)
            (values[layer] + slot * stride).copyMemory(from: values[layer] + source * stride, byteCount: bytes)
        }
    }

    /// Empties `slot` so a new sequence can use it.
    public func reset(slot: Int) { lengths[slot] = 0 }

    /// Bytes reserved for keys and values.
    public var reservedBytes: Int { 2 * layerCount * slotCount * capacity * rowWidth * type.byteCount }
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
