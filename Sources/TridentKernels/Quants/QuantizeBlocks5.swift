/// ggml's reference quantizers of the 5-bit block types (`quantize_row_q5_0_ref`,
/// `quantize_row_q5_1_ref`), bit for bit; layouts in `Blocks32`.
extension Quantizer {
    /// 32 floats -> one q5_0 block (22 bytes): `d = max / -16` with `max` the element of
    /// largest magnitude (signed), `q = min(31, trunc(x / d + 16.5))`.
    static func quantizeBlockQ5_0(_ x: UnsafePointer<Float>, _ block: UnsafeMutableRawPointer) {
        var amax: Float = 0
        var signedMax: Float = 0
        for i in 0..<32 where abs(x[i]) > amax {
            amax = abs(x[i])
            signedMax = x[i]
        }
        let d = signedMax / -16
        let id: Float = d != 0 ? 1 / d : 0
        block.storeBytes(of: HalfConversion.f32ToF16(d), as: UInt16.self)
        storeFiveBits(block + 2, qs: block + 6) { j in UInt8(min(31, Int8(x[j] * id + 16.5))) }
    }

    /// 32 floats -> one q5_1 block (24 bytes): `d = (max - min) / 31`, `m = min`,
    /// `q = min(31, trunc((x - min) / d + 0.5))`.
    static func quantizeBlockQ5_1(_ x: UnsafePointer<Float>, _ block: UnsafeMutableRawPointer) {
        var lo = Float.greatestFiniteMagnitude
        var hi = -Float.greatestFiniteMagnitude
        for i in 0..<32 {
            lo = min(lo, x[i])
            hi = max(hi, x[i])
        }
        let d = (hi - lo) / 31
        let id: Float = d != 0 ? 1 / d : 0
        block.storeBytes(of: HalfConversion.f32ToF16(d), as: UInt16.self)
        block.storeBytes(of: HalfConversion.f32ToF16(lo), toByteOffset: 2, as: UInt16.self)
        storeFiveBits(block + 4, qs: block + 8) { j in UInt8(min(31, Int8((x[j] - lo) * id + 0.5))) }
    }

    /// Packs 32 five-bit values `value(j)`: low nibbles into 16 bytes at `qs` (element j and
    /// j + 16 share byte j), fifth bits into the little-endian u32 at `qh` (bit j for element j).
    @inline(__always)
    private static func storeFiveBits(_ qh: UnsafeMutableRawPointer, qs: UnsafeMutableRawPointer,
                                      value: (Int) -> UInt8) {
        var high: UInt32 = 0
        let out = qs.assumingMemoryBound(to: UInt8.self)
        for j in 0..<16 {
            let a = value(j), b = value(j + 16)
            out[j] = (a & 0x0F) | (b & 0x0F) << 4
            high |= UInt32(a >> 4) << UInt32(j) | UInt32(b >> 4) << UInt32(j + 16)
        }
        qh.storeBytes(of: high, as: UInt32.self)
    }
}
