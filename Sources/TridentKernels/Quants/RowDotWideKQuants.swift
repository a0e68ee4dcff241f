// 16-lane decode loops of Q4_K, Q5_K and Q6_K (the types of every Q4_K_M file), one
// super-block of 256 elements per `add` (layouts in `KQuantLayout`, element order as in
// `KQuants`' dequantizers). Sub-block scales are decoded once per super-block into a vector;
// each 16-lane product then takes its scale by a broadcast. Minimum terms (Q4_K, Q5_K) and
// the −32 bias (Q6_K) come from the sums of x, one vector FMA per super-block.

/// 0...15 as floats: `lookup16(nibbleTable, indices)` converts nibbles in one `vpermps`
/// (no mask, no conversion).
@inline(__always)
var nibbleTable: V16 { V16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) }

extension KQuantScales {
    /// Q4_K / Q5_K: the 8 minimums (lanes 0-7) and the 8 scales (lanes 8-15) of the 12 scale
    /// bytes at `q` as floats, lane j / 8 + j equal to `scaleMin(j, q)`. Bytes 0-3 / 4-7 hold
    /// scales / mins 0-3 in their low 6 bits; bytes 8-11 hold the low 4 bits of scales 4-7 (low
    /// nibbles) and of mins 4-7 (high nibbles), whose top 2 bits are the top 2 bits of bytes
    /// 0-3 / 4-7. The bit work is on three words, then one widening and one conversion.
    @inline(__always)
    static func minsScales16(_ q: UnsafeRawPointer) -> V16 {
        let w0 = q.loadUnaligned(as: UInt32.self)
        let w1 = q.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
        let w2 = q.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
        let low6: UInt32 = 0x3F3F_3F3F, low4: UInt32 = 0x0F0F_0F0F, low2: UInt32 = 0x0303_0303
        let words = SIMD4<UInt32>(w1 & low6, ((w2 >> 4) & low4) | (((w1 >> 6) & low2) << 4),
                                  w0 & low6, (w2 & low4) | (((w0 >> 6) & low2) << 4))
        let b = unsafeBitCast(words, to: SIMD16<UInt8>.self)
        return uintsToFloat16(SIMD16<UInt32>(UInt32(b[0]), UInt32(b[1]), UInt32(b[2]), UInt32(b[3]),
                                             UInt32(b[4]), UInt32(b[5]), UInt32(b[6]), UInt32(b[7]),
                                             UInt32(b[8]), UInt32(b[9]), UInt32(b[10]), UInt32(b[11]),
                                             UInt32(b[12]), UInt32(b[13]), UInt32(b[14]), UInt32(b[15])))
    }
}

/// `minsScales16` of a Q4_K / Q5_K super-block times (dmin, d): lanes 0-7 dmin·m_j, 8-15 d·sc_j.
@inline(__always)
func kQuantMinsScales(_ block: UnsafeRawPointer) -> V16 {
    let factors = V16(lowHalf: F8(repeating: loadHalf(block, KQuantLayout.Q4.dmin)),
                      highHalf: F8(repeating: loadHalf(block, KQuantLayout.Q4.d)))
    return KQuantScales.minsScales16(block + KQuantLayout.Q4.scales) * factors
}

/// Q4_K: value = d·sc·q − dmin·m per 32 elements; Σ = Σ_j d·sc_j·Σq·x − Σ_j dmin·m_j·Σx_j.
struct Q4KRowDot: WideRowDot {
    static var elements: Int { 256 }
    static var bytes: Int { 144 }
    static var sums: WideSums { .per32 }
    var acc0 = V16(), acc1 = V16()
    var minimums = F8()  // lane j: Σ dmin·m_j·Σx_j

    @inline(__always)
    mutating func add(_ block: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>) {
        typealias L = KQuantLayout.Q4
        let scales = kQuantMinsScales(block)  // lanes 8 + j: d·sc_j
        minimums = fma8(scales.lowHalf, load8(sums), minimums)
        let q = (block + L.qs).assumingMemoryBound(to: UInt8.self)
        for chunk in 0..<4 {  // 32 bytes: low nibbles are sub-block 2·chunk, high 2·chunk + 1
            let xc = x + 64 * chunk
            let a = widenOpaque16(q + 32 * chunk), b = widenOpaque16(q + 32 * chunk + 16)
            let lo = fma16(lookup16(nibbleTable, b), load16(xc + 16), lookup16(nibbleTable, a) * load16(xc))
            let hi = fma16(lookup16(nibbleTable, b &>> 4), load16(xc + 48), lookup16(nibbleTable, a &>> 4) * load16(xc + 32))
            acc0 = fma16(lo, splat16(scales, 8 + 2 * chunk), acc0)
            acc1 = fma16(hi, splat16(scales, 9 + 2 * chunk), acc1)
        }
    }

    @inline(__always) var total: Float { horizontalSum(acc0 + acc1) - hsum8(minimums) }
}

/// Q5_K: as Q4_K with a fifth bit per element from the 32 `qh` bytes (bit 2·chunk for the
/// low nibbles of chunk `chunk`, bit 2·chunk + 1 for the high nibbles).
struct Q5KRowDot: WideRowDot {
    static var elements: Int { 256 }
    static var bytes: Int { 176 }
    static var sums: WideSums { .per32 }
    var acc0 = V16(), acc1 = V16()
    var minimums = F8()

    @inline(__always)
    mutating func add(_ block: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>) {
        typealias L = KQuantLayout.Q5
        let scales = kQuantMinsScales(block)  // lanes 8 + j: d·sc_j
        minimums = fma8(scales.lowHalf, load8(sums), minimums)
        let q = (block + L.qs).assumingMemoryBound(to: UInt8.self)
        let qh = (block + L.qh).assumingMemoryBound(to: UInt8.self)
        // Bit 2·chunk (low nibbles) and 2·chunk + 1 (high nibbles) of each qh byte, kept at
        // bit 4 by shifting right by 2 per chunk.
        let h0 = widenOpaque16(qh), h1 = widenOpaque16(qh + 16)
        var low0 = h0 &<< 4, low1 = h1 &<< 4, high0 = h0 &<< 3, high1 = h1 &<< 3
        for chunk in 0..<4 {
            let xc = x + 64 * chunk
            let a = widenOpaque16(q + 32 * chunk), b = widenOpaque16(q + 32 * chunk + 16)
            let a0 = (a & 15) | (low0 & 16), b0 = (b & 15) | (low1 & 16)
            let a1 = (a &>> 4) | (high0 & 16), b1 = (b &>> 4) | (high1 & 16)
            let lo = fma16(uintsToFloat16(b0), load16(xc + 16), uintsToFloat16(a0) * load16(xc))
            let hi = fma16(uintsToFloat16(b1), load16(xc + 48), uintsToFloat16(a1) * load16(xc + 32))
            acc0 = fma16(lo, splat16(scales, 8 + 2 * chunk), acc0)
            acc1 = fma16(hi, splat16(scales, 9 + 2 * chunk), acc1)
            low0 = low0 &>> 2
            low1 = low1 &>> 2
            high0 = high0 &>> 2
            high1 = high1 &>> 2
        }
    }

    @inline(__always) var total: Float { horizontalSum(acc0 + acc1) - hsum8(minimums) }
}

/// Q6_K: value = d·sc·(q − 32) per 16 elements; Σ = Σ_g d·sc_g·(Σq·x − 32·Σx_g).
struct Q6KRowDot: WideRowDot {
    static var elements: Int { 256 }
    static var bytes: Int { 210 }
    static var sums: WideSums { .per16 }
    var acc0 = V16(), acc1 = V16(), acc2 = V16(), acc3 = V16()
    var bias = V16()  // lane g: Σ d·sc_g·Σx_g

    @inline(__always)
    mutating func add(_ block: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>) {
        typealias L = KQuantLayout.Q6
        let scales = widenInt8x16((block + L.scales).assumingMemoryBound(to: Int8.self)) * loadHalf(block, L.d)
        // Scale g covers elements 16g ..< 16g + 16 in ggml's order (see `KQuants.dequantizeQ6_K`).
        bias = fma16(scales, load16(sums), bias)
        for half in 0..<2 {
            let ql = (block + L.ql + 64 * half).assumingMemoryBound(to: UInt8.self)
            let qh = (block + L.qh + 32 * half).assumingMemoryBound(to: UInt8.self)
            let xh = x + 128 * half
            for k in 0..<2 {  // lanes l = 16k ..< 16k + 16 of each 32
                let a = widenOpaque16(ql + 16 * k), c = widenOpaque16(ql + 32 + 16 * k)
                let h = widenOpaque16(qh + 16 * k)
                let v0 = (a & 15) | ((h & 3) &<< 4), v1 = (c & 15) | ((h & 12) &<< 2)
                let v2 = (a &>> 4) | (h & 48), v3 = (c &>> 4) | ((h &>> 2) & 48)
                let g = 8 * half + k
                acc0 = fma16(uintsToFloat16(v0) * load16(xh + 16 * k), splat16(scales, g), acc0)
                acc1 = fma16(uintsToFloat16(v1) * load16(xh + 32 + 16 * k), splat16(scales, g + 2), acc1)
                acc2 = fma16(uintsToFloat16(v2) * load16(xh + 64 + 16 * k), splat16(scales, g + 4), acc2)
                acc3 = fma16(uintsToFloat16(v3) * load16(xh + 96 + 16 * k), splat16(scales, g + 6), acc3)
            }
        }
    }

    @inline(__always) var total: Float { horizontalSum((acc0 + acc1) + (acc2 + acc3)) - 32 * horizontalSum(bias) }
}
