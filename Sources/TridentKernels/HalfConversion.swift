/// Scalar conversions between `Float` and the 16-bit float formats stored in model files.
///
/// `f16` is IEEE 754 binary16; `bf16` is the top half of an IEEE binary32. All functions
/// handle zeros, subnormals, infinities and NaNs; narrowing rounds to nearest, ties to even.
/// The fast paths use the hardware conversion (`Float16`, F16C on x86); the `Reference`
/// variants are portable bit manipulation kept for tests.
public enum HalfConversion {
    /// binary16 bits -> Float (exact).
    @inline(__always)
    public static func f16ToF32(_ bits: UInt16) -> Float {
        Float(Float16(bitPattern: bits))
    }

    /// Float -> binary16 bits (round to nearest even; overflow gives ±inf; NaN stays NaN).
    @inline(__always)
    public static func f32ToF16(_ value: Float) -> UInt16 {
        Float16(value).bitPattern
    }

    /// bfloat16 bits -> Float (exact).
    @inline(__always)
    public static func bf16ToF32(_ bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// Float -> bfloat16 bits (round to nearest even; NaN becomes a quiet NaN with the same
    /// sign; subnormals are kept, as ggml does).
    @inline(__always)
    public static func f32ToBF16(_ value: Float) -> UInt16 {
        let u = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: u >> 16) | 0x0040 }
        let rounding: UInt32 = 0x7FFF + ((u >> 16) & 1)
        return UInt16(truncatingIfNeeded: (u &+ rounding) >> 16)
    }

    /// Bitwise reference for `f16ToF32`, independent of `Float16`.
    public static func f16ToF32Reference(_ bits: UInt16) -> Float {
        let sign: UInt32 = UInt32(bits & 0x8000) << 16
        let exponent = Int((bits >> 10) & 0x1F)
        let mantissa = UInt32(bits & 0x3FF)
        if exponent == 0x1F {  // inf or NaN: keep payload
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        if exponent == 0 {  // zero or subnormal: mantissa * 2^-24, exact in Float
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -magnitude : magnitude
        }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
    }

    /// Bitwise reference for `f32ToF16`, independent of `Float16`.
    public static func f32ToF16Reference(_ value: Float) -> UInt16 {
        let u = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: (u >> 16) & 0x8000)
        let exponent = Int((u >> 23) & 0xFF)
        let mantissa = u & 0x7F_FFFF
        if exponent == 0xFF {
            return sign | 0x7C00 | (mantissa != 0 ? 0x200 | UInt16(truncatingIfNeeded: mantissa >> 13) : 0)
        }
        let e = exponent - 127 + 15  // rebiased exponent
        if e >= 0x1F { return sign | 0x7C00 }
        if e <= 0 {
            // Subnormal half (or underflow to zero): shift the full significand right.
            if e < -10 { return sign }
            let significand = mantissa | 0x80_0000
            let shift = UInt32(14 - e)
            return sign | UInt16(truncatingIfNeeded: roundShift(significand, by: shift))
        }
        // Normal: rounding may carry into the exponent, which is the right result.
        let combined = UInt32(e) << 23 | mantissa
        return sign | UInt16(truncatingIfNeeded: roundShift(combined, by: 13))
    }

    /// `value >> shift`, rounded to nearest, ties to even.
    private static func roundShift(_ value: UInt32, by shift: UInt32) -> UInt32 {
        let truncated = value >> shift
        let remainder = value & ((1 << shift) - 1)
        let half: UInt32 = 1 << (shift - 1)
        if remainder > half || (remainder == half && truncated & 1 == 1) { return truncated + 1 }
        return truncated
    }
}
