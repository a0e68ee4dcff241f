/// Unpacking of the packed sub-block scales of the K-quant and IQ4_XS super-blocks
/// (ggml's `get_scale_min_k4`, the Q3_K 6-bit scale shuffle and IQ4_XS's split 6-bit scales).
enum KQuantScales {
    /// Q4_K / Q5_K: sub-block `j` (0..<8) of the 12 scale bytes `q` -> (scale, min), 6 bits each.
    /// Bytes 0-3 hold scales 0-3, bytes 4-7 mins 0-3 (low 6 bits); bytes 8-11 hold the low
    /// nibbles of scales 4-7 and high nibbles of mins 4-7, whose top 2 bits sit in the top
    /// bits of bytes 0-7.
    @inline(__always)
    static func scaleMin(_ j: Int, _ q: UnsafePointer<UInt8>) -> (scale: Float, min: Float) {
        if j < 4 {
            return (Float(q[j] & 63), Float(q[j + 4] & 63))
        }
        let scale = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4)
        let min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4)
        return (Float(scale), Float(min))
    }

    /// Q3_K: signed 6-bit scale `i` (0..<16, already minus 32) of the 12 bytes `q`: low
    /// nibbles of scales 0-7 then 8-15 packed in bytes 0-7 (low then high nibble halves),
    /// top 2 bits of scale i at bits 2·(i / 4) of byte 8 + i % 4.
    @inline(__always)
    static func q3Scale(_ i: Int, _ q: UnsafePointer<UInt8>) -> Float {
        let low = i < 8 ? q[i] & 0x0F : q[i - 8] >> 4
        let high = (q[8 + i % 4] >> (2 * UInt8(i / 4))) & 3
        return Float(Int(low | high << 4) - 32)
    }

    /// Q2_K: the 16 sub-block scales (low nibbles) and minimums (high nibbles) of the 16
    /// bytes `q`, as floats in sub-block order.
    @inline(__always)
    static func q2ScalesMins(_ q: UnsafePointer<UInt8>) -> (scales: SIMD16<Float>, mins: SIMD16<Float>) {
        let lo = widenBytes(q), hi = widenBytes(q + 8)
        return (SIMD16(lowHalf: intsToFloat(lo & 15), highHalf: intsToFloat(hi & 15)),
                SIMD16(lowHalf: intsToFloat(lo &>> 4), highHalf: intsToFloat(hi &>> 4)))
    }

    /// Q3_K: all 16 signed scales (minus 32) of the 12 bytes `q`, as floats, equal to
    /// `q3Scale(i, q)` for i in 0..<16.
    @inline(__always)
    static func q3ScalesVector(_ q: UnsafePointer<UInt8>) -> SIMD16<Float> {
        let low = widenBytes(q)
        let high = SIMD8<UInt32>(UInt32(q[8]), UInt32(q[9]), UInt32(q[10]), UInt32(q[11]),
                                 UInt32(q[8]), UInt32(q[9]), UInt32(q[10]), UInt32(q[11]))
        let first = (low & 15) | (((high &>> SIMD8<UInt32>(0, 0, 0, 0, 2, 2, 2, 2)) & 3) &<< 4)
        let second = (low &>> 4) | (((high &>> SIMD8<UInt32>(4, 4, 4, 4, 6, 6, 6, 6)) & 3) &<< 4)
        return SIMD16(lowHalf: biasedToFloat(first, bias: 32), highHalf: biasedToFloat(second, bias: 32))
    }

    /// IQ4_XS: the signed 6-bit scale (minus 32) of sub-block `ib` (0..<8): low 4 bits from
    /// nibble `ib` of `low` (4 bytes), high 2 bits from bits `2ib` of the 16-bit `high`.
    @inline(__always)
    static func iq4xsScale(_ ib: Int, low: UnsafePointer<UInt8>, high: UInt16) -> Float {
        let l = (low[ib / 2] >> (4 * UInt8(ib % 2))) & 0x0F
        let h = UInt8((high >> (2 * UInt16(ib))) & 3)
        return Float(Int(l | h << 4) - 32)
    }
}
