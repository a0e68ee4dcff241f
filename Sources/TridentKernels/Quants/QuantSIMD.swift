// SIMD building blocks shared by the 5-bit, K-quant and IQ4 kernels (see SIMDHelpers.swift
// for the general ones). Lanes are 8 × 32-bit; LLVM turns each into one or two vector
// instructions (variable shifts, conversions).

/// Lane indices 0...7.
@inline(__always)
var laneIndex: SIMD8<UInt32> { SIMD8<UInt32>(0, 1, 2, 3, 4, 5, 6, 7) }

/// Bits `first ..< first + 8` of `word`, one per lane, each moved to bit `position`
/// (the fifth-bit planes of q5_0 / q5_1).
@inline(__always)
func wordBits(_ word: UInt32, first: UInt32, position: UInt32) -> SIMD8<UInt32> {
    ((SIMD8<UInt32>(repeating: word) &>> (laneIndex &+ first)) & 1) &<< position
}

/// Signed 32-bit lanes -> floats (one `vcvtdq2ps`).
@inline(__always)
func signedToFloat(_ i: SIMD8<Int32>) -> F8 {
    F8(Float(i[0]), Float(i[1]), Float(i[2]), Float(i[3]),
       Float(i[4]), Float(i[5]), Float(i[6]), Float(i[7]))
}

/// Unsigned lanes minus `bias`, as floats (K-quant values stored with an offset).
@inline(__always)
func biasedToFloat(_ v: SIMD8<UInt32>, bias: Int32) -> F8 {
    signedToFloat(unsafeBitCast(v, to: SIMD8<Int32>.self) &- bias)
}

/// Int8 values of ggml's IQ4 non-linear grid (`kvalues_iq4nl`: -127, -104, -83, -65, -49,
/// -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113) of 8 nibbles (in the low 4 bits of each
/// lane). Computed, not looked up (a table lookup is 8 scalar loads per vector): a quartic
/// through the 16 points is within 0.48 of every value, so rounding it to the nearest integer
/// is exact (checked for all 16 nibbles by `QuantFixtureTests`).
@inline(__always)
func iq4Values(_ n: SIMD8<UInt32>) -> F8 {
    let x = intsToFloat(n)
    var p = fma8(x, F8(repeating: 0.0013247202), F8(repeating: 0.041216824))
    p = fma8(p, x, F8(repeating: -1.5001836))
    p = fma8(p, x, F8(repeating: 24.743246))
    p = fma8(p, x, F8(repeating: -127.0436))
    // Round to the nearest integer: adding 1.5·2^23 leaves no fraction bits (|p| < 2^22).
    let magic = F8(repeating: 12_582_912)
    return (p + magic) - magic
}

/// Reads the f16 at `offset` bytes from `p` as a float.
@inline(__always)
func loadHalf(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    HalfConversion.f16ToF32(p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
}
