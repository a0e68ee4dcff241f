/// Decode dot products (one stored row · float32 x) of the 32-element block types q5_0,
/// q5_1 and iq4_nl (layouts in `Blocks32`). `blockSums[b]` = Σx of block b, as for q4_0.
extension RowDot {
    /// Row of `blocks` q5_0 blocks · x, as d·Σq·x − 16d·Σx.
    @inline(__always)
    static func q5_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>,
                     _ blockSums: UnsafePointer<Float>, _ blocks: Int) -> Float {
        var acc0 = F8(), acc1 = F8()
        var offset: Float = 0
        for b in 0..<blocks {
            let block = row + b * 22
            let d = loadHalf(block, 0)
            let qh = block.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
            let s = q5Dot(qh, (block + 6).assumingMemoryBound(to: UInt8.self), x + b * 32)
            if b & 1 == 0 { acc0 = fma8(s, F8(repeating: d), acc0) } else { acc1 = fma8(s, F8(repeating: d), acc1) }
            offset += d * blockSums[b]
        }
        return hsum8(acc0 + acc1) - 16 * offset
    }

    /// Row of `blocks` q5_1 blocks · x, as d·Σq·x + m·Σx.
    @inline(__always)
    static func q5_1(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>,
                     _ blockSums: UnsafePointer<Float>, _ blocks: Int) -> Float {
        var acc0 = F8(), acc1 = F8()
        var offset: Float = 0
        for b in 0..<blocks {
            let block = row + b * 24
            let d = loadHalf(block, 0)
            let qh = block.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
            let s = q5Dot(qh, (block + 8).assumingMemoryBound(to: UInt8.self), x + b * 32)
            if b & 1 == 0 { acc0 = fma8(s, F8(repeating: d), acc0) } else { acc1 = fma8(s, F8(repeating: d), acc1) }
            offset += loadHalf(block, 2) * blockSums[b]
        }
        return hsum8(acc0 + acc1) + offset
    }

    /// Lane-wise partial sums of Σ q·x for the 32 five-bit values of a q5 block.
    @inline(__always)
    static func q5Dot(_ qh: UInt32, _ qs: UnsafePointer<UInt8>, _ x: UnsafePointer<Float>) -> F8 {
        let raw0 = widenBytes(qs), raw1 = widenBytes(qs + 8)
        let v0 = intsToFloat((raw0 & 15) | wordBits(qh, first: 0, position: 4))
        let v1 = intsToFloat((raw1 & 15) | wordBits(qh, first: 8, position: 4))
        let v2 = intsToFloat((raw0 &>> 4) | wordBits(qh, first: 16, position: 4))
        let v3 = intsToFloat((raw1 &>> 4) | wordBits(qh, first: 24, position: 4))
        return fma8(v0, load8(x), fma8(v1, load8(x + 8), fma8(v2, load8(x + 16), v3 * load8(x + 24))))
    }

    /// Row of `blocks` iq4_nl blocks · x.
    @inline(__always)
    static func iq4_nl(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ blocks: Int) -> Float {
        var acc0 = F8(), acc1 = F8()
        for b in 0..<blocks {
            let block = row + b * 18
            let s = iq4Dot((block + 2).assumingMemoryBound(to: UInt8.self), x + b * 32)
            let d = F8(repeating: loadHalf(block, 0))
            if b & 1 == 0 { acc0 = fma8(s, d, acc0) } else { acc1 = fma8(s, d, acc1) }
        }
        return hsum8(acc0 + acc1)
    }

    /// Lane-wise partial sums of Σ iq4[q]·x over the 32 nibbles of 16 bytes (q4_0 order).
    @inline(__always)
    static func iq4Dot(_ qs: UnsafePointer<UInt8>, _ x: UnsafePointer<Float>) -> F8 {
        let raw0 = widenBytes(qs), raw1 = widenBytes(qs + 8)
        let s0 = fma8(iq4Values(raw0 & 15), load8(x), iq4Values(raw1 & 15) * load8(x + 8))
        return fma8(iq4Values(raw0 &>> 4), load8(x + 16), fma8(iq4Values(raw1 &>> 4), load8(x + 24), s0))
    }
}
