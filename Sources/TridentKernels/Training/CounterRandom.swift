import Foundation

/// Counter-based random numbers: the value for element `index` of stream `stream` is a pure
/// function of `(seed, stream, index)`. A shard computes exactly its slice of what one rank
/// would compute, from global element indices, so random initialisation and dropout masks
/// do not depend on the parallel layout (Megatron's model-parallel RNG, without RNG state).
///
/// Specification (for reproduction elsewhere), with `mix` SplitMix64's finaliser
/// (`z ^= z >> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >> 27; z *= 0x94D049BB133111EB; z ^= z >> 31`):
/// `key = mix(seed + 0x9E3779B97F4A7C15 · (stream + 1))`,
/// `bits(stream, index) = mix(key + 0xD1B54A32D192ED03 · (index + 1))` (wrapping arithmetic).
public struct CounterRandom: Sendable, Equatable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    /// A stream id built from parts (layer, site, step, micro-batch, ...): `mix` folded over them.
    public static func stream(_ parts: UInt64...) -> UInt64 {
        parts.reduce(0x243F_6A88_85A3_08D3) { mix($0 &+ 0x9E37_79B9_7F4A_7C15 &* ($1 &+ 1)) }
    }

    /// 64 random bits for element `index` of `stream`.
    @inline(__always)
    public func bits(stream: UInt64, index: UInt64) -> UInt64 {
        let key = Self.mix(seed &+ 0x9E37_79B9_7F4A_7C15 &* (stream &+ 1))
        return Self.mix(key &+ 0xD1B5_4A32_D192_ED03 &* (index &+ 1))
    }

    /// Uniform in `[0, 1)` with 24 random bits: `(bits >> 40) · 2⁻²⁴`.
    @inline(__always)
    public func uniform(stream: UInt64, index: UInt64) -> Float {
        Float(bits(stream: stream, index: index) >> 40) * 0x1p-24
    }

    /// Standard normal by Box–Muller (cosine branch, in Double) from the bits of indices
    /// `2·index` and `2·index + 1`: `u1 = ((b0 >> 11) + 1) · 2⁻⁵³`, `u2 = (b1 >> 11) · 2⁻⁵³`,
    /// `sqrt(−2 ln u1) · cos(2π u2)`.
    @inline(__always)
    public func normal(stream: UInt64, index: UInt64) -> Float {
        let u1 = Double((bits(stream: stream, index: 2 &* index) >> 11) + 1) * 0x1p-53
        let u2 = Double(bits(stream: stream, index: 2 &* index &+ 1) >> 11) * 0x1p-53
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
