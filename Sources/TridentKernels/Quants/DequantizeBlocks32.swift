/// Dequantizers of the 32-element block types beyond q8_0 / q4_0 / q4_1 (ggml layouts):
/// - `q5_0` (22 bytes): f16 `d`, u32 `qh`, 16 nibble bytes; element j (j < 16) is the low
///   nibble of byte j plus bit j of `qh` as bit 4, element j + 16 the high nibble plus bit
///   j + 16; value `d * (q - 16)`.
/// - `q5_1` (24 bytes): f16 `d`, f16 `m`, then as `q5_0`; value `d * q + m`.
/// - `iq4_nl` (18 bytes): f16 `d`, 16 nibble bytes as `q4_0`; value `d * iq4[q]`.
enum Blocks32 {
    /// The 32 five-bit values of a q5 block as floats, in element order, written with
    /// `out[j] = scale * q_j + offset`.
    @inline(__always)
    static func storeQ5(_ qh: UInt32, _ qs: UnsafePointer<UInt8>, scale: Float, offset: Float,
                        _ out: UnsafeMutablePointer<Float>) {
        let d = F8(repeating: scale), m = F8(repeating: offset)
        let raw0 = widenBytes(qs), raw1 = widenBytes(qs + 8)
        store8(fma8(intsToFloat((raw0 & 15) | wordBits(qh, first: 0, position: 4)), d, m), out)
        store8(fma8(intsToFloat((raw1 & 15) | wordBits(qh, first: 8, position: 4)), d, m), out + 8)
        store8(fma8(intsToFloat((raw0 &>> 4) | wordBits(qh, first: 16, position: 4)), d, m), out + 16)
        store8(fma8(intsToFloat((raw1 &>> 4) | wordBits(qh, first: 24, position: 4)), d, m), out + 24)
    }

    static func dequantizeQ5_0(_ source: UnsafeRawPointer, blocks: Int, into out: UnsafeMutablePointer<Float>) {
        for b in 0..<blocks {
            let block = source + b * 22
            let d = loadHalf(block, 0)
            let qh = block.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
            storeQ5(qh, (block + 6).assumingMemoryBound(to: UInt8.self), scale: d, offset: -16 * d, out + b * 32)
        }
    }

    static func dequantizeQ5_1(_ source: UnsafeRawPointer, blocks: Int, into out: UnsafeMutablePointer<Float>) {
        for b in 0..<blocks {
            let block = source + b * 24
            let qh = block.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
            storeQ5(qh, (block + 8).assumingMemoryBound(to: UInt8.self), scale: loadHalf(block, 0),
                    offset: loadHalf(block, 2), out + b * 32)
        }
    }

    /// 16 nibble bytes of an IQ4 (sub-)block -> 32 floats `scale * iq4[q]` in element order.
    @inline(__always)
    static func storeIQ4(_ qs: UnsafePointer<UInt8>, scale: Float, _ out: UnsafeMutablePointer<Float>) {
        let d = F8(repeating: scale)
        let raw0 = widenBytes(qs), raw1 = widenBytes(qs + 8)
        store8(iq4Values(raw0 & 15) * d, out)
        store8(iq4Values(raw1 & 15) * d, out + 8)
        store8(iq4Values(raw0 &>> 4) * d, out + 16)
        store8(iq4Values(raw1 &>> 4) * d, out + 24)
    }

    static func dequantizeIQ4_NL(_ source: UnsafeRawPointer, blocks: Int, into out: UnsafeMutablePointer<Float>) {
        for b in 0..<blocks {
            let block = source + b * 18
            storeIQ4((block + 2).assumingMemoryBound(to: UInt8.self), scale: loadHalf(block, 0), out + b * 32)
        }
    }
}
