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

/// Int8 values of ggml's IQ4 non-linear grid (`kvalues_iq4nl`), indexed by a nibble.
@inline(__always)
func iq4Value(_ nibble: UInt32) -> Float {
    let table: SIMD16<Float> = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]
    return table[Int(nibble & 15)]
}

/// IQ4 grid values of 8 nibbles (already isolated in the low 4 bits of each lane).
@inline(__always)
func iq4Values(_ n: SIMD8<UInt32>) -> F8 {
    F8(iq4Value(n[0]), iq4Value(n[1]), iq4Value(n[2]), iq4Value(n[3]),
       iq4Value(n[4]), iq4Value(n[5]), iq4Value(n[6]), iq4Value(n[7]))
}

/// Reads the f16 at `offset` bytes from `p` as a float.
@inline(__always)
func loadHalf(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    HalfConversion.f16ToF32(p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
}
