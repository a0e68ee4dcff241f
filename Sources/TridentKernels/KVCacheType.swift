/// How a KV cache stores its keys and values.
///
/// Attention always computes in float32: an f16 cache is widened as it is read (F16C /
/// AVX-512 conversions when the build targets a CPU that has them) and keys and values are
/// rounded to binary16 (11 significant bits, round to nearest even) when they are written.
public enum KVCacheType: String, Sendable, CaseIterable, Codable {
    /// float32: exact, the default (the exactness checks run on it).
    case f32
    /// IEEE binary16, llama.cpp's default: half the memory and half the traffic per token.
    case f16

    /// Bytes of one stored element.
    public var byteCount: Int {
        switch self {
        case .f32: return 4
        case .f16: return 2
        }
    }
}

/// One sequence's cached keys or values, `[positions, kvHeads, headDim]` elements of `type`,
/// as the attention kernels read them.
public struct CachedRows: @unchecked Sendable {
    public let base: UnsafeRawPointer
    public let type: KVCacheType

    public init(_ base: UnsafeRawPointer, type: KVCacheType) {
        self.base = base
        self.type = type
    }

    /// Float32 rows (`type` must be `.f32`).
    public init(_ floats: UnsafePointer<Float>) {
        self.init(UnsafeRawPointer(floats), type: .f32)
    }

    /// The rows starting `elements` elements further on.
    @inline(__always)
    public func advanced(by elements: Int) -> CachedRows {
        CachedRows(base + elements * type.byteCount, type: type)
    }

    /// The elements as float32 (`type` must be `.f32`).
    @inline(__always)
    var floats: UnsafePointer<Float> { base.assumingMemoryBound(to: Float.self) }

    /// The elements as binary16 bits (`type` must be `.f16`).
    @inline(__always)
    var halves: UnsafePointer<UInt16> { base.assumingMemoryBound(to: UInt16.self) }
}
