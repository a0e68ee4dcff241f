// 16-lane decode loops of Q4_K, Q5_K and Q6_K (the types of every Q4_K_M file), one
// super-block of 256 elements per `add` (layouts in `KQuantLayout`, element order as in
// `KQuants`' dequantizers). Sub-block scales are decoded once per super-block into a vector;
// each 16-lane product then takes its scale by a broadcast. Minimum terms (Q4_K, Q5_K) and
// the −32 bias (Q6_K) come from the sums of x, one vector FMA per super-block.

/// 0...15 as floats: `lookup16(nibbleTable, bytes)` converts low nibbles in one `vpermps`
/// (no mask, no conversion), which moves work off the port the conversions use.
@inline(__always)
var nibbleTable: V16 { V16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) }

extension KQuantScales {
    /// Q4_K / Q5_K: the 8 scales and the 8 minimums of the 12 scale bytes at `q` as floats,
    /// equal to `scaleMin(j, q)` for j in 0..<8. Bytes 0-3 / 4-7 hold scales / mins 0-3 in
    /// their low 6 bits; bytes 8-11 hold the low 4 bits of scales 4-7 (low nibbles) and of
    /// mins 4-7 (high nibbles), whose top 2 bits are the top 2 bits of bytes 0-3 / 4-7.
    @inline(__always)
    static func scalesMins8(_ q: UnsafeRawPointer) -> (scales: F8, mins: F8) {
        let w0 = q.loadUnaligned(as: UInt32.self)
        let w1 = q.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
        let w2 = q.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
        let low6: UInt32 = 0x3F3F_3F3F, low4: UInt32 = 0x0F0F_0F0F, low2: UInt32 = 0x0303_0303
        let scalesHigh = (w2 & low4) | (((w0 >> 6) & low2) << 4)
        let minsHigh = ((w2 >> 4) & low4) | (((w1 >> 6) & low2) << 4)
        return (bytesToFloat8(w0 & low6, scalesHigh), bytesToFloat8(w1 & low6, minsHigh))
    }

    /// The 8 bytes of two little-endian words (`low` first) as floats.
    @inline(__always)
    static func bytesToFloat8(_ low: UInt32, _ high: UInt32) -> F8 {
        let b = unsafeBitCast(SIMD2<UInt32>(low, high), to: SIMD8<UInt8>.self)
        return intsToFloat(SIMD8<UInt32>(UInt32(b[0]), UInt32(b[1]), UInt32(b[2]), UInt32(b[3]),
                                         UInt32(b[4]), UInt32(b[5]), UInt32(b[6]), UInt32(b[7])))
    }
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
        let (sc, mn) = KQuantScales.scalesMins8(block + L.scales)
        let scales = sc * loadHalf(block, L.d)
        minimums = fma8(mn * loadHalf(block, L.dmin), load8(sums), minimums)
        let q = (block + L.qs).assumingMemoryBound(to: UInt8.self)
        for chunk in 0..<4 {  // 32 bytes: low nibbles are sub-block 2·chunk, high 2·chunk + 1
            let xc = x + 64 * chunk
            let a = widenBytes16(q + 32 * chunk), b = widenBytes16(q + 32 * chunk + 16)
            let lo = fma16(lookup16(nibbleTable, b), load16(xc + 16), lookup16(nibbleTable, a) * load16(xc))
            let hi = fma16(uintsToFloat16(b &>> 4), load16(xc + 48), uintsToFloat16(a &>> 4) * load16(xc + 32))
            acc0 = fma16(lo, splat16(scales, 2 * chunk), acc0)
            acc1 = fma16(hi, splat16(scales, 2 * chunk + 1), acc1)
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
        let (sc, mn) = KQuantScales.scalesMins8(block + L.scales)
        let scales = sc * loadHalf(block, L.d)
        minimums = fma8(mn * loadHalf(block, L.dmin), load8(sums), minimums)
        let q = (block + L.qs).assumingMemoryBound(to: UInt8.self)
        let qh = (block + L.qh).assumingMemoryBound(to: UInt8.self)
        var h0 = widenBytes16(qh), h1 = widenBytes16(qh + 16)  // shifted right by 2 per chunk
        for chunk in 0..<4 {
            let xc = x + 64 * chunk
            let a = widenBytes16(q + 32 * chunk), b = widenBytes16(q + 32 * chunk + 16)
            let a0 = (a & 15) | ((h0 &<< 4) & 16), b0 = (b & 15) | ((h1 &<< 4) & 16)
            let a1 = (a &>> 4) | ((h0 &<< 3) & 16), b1 = (b &>> 4) | ((h1 &<< 3) & 16)
            let lo = fma16(uintsToFloat16(b0), load16(xc + 16), uintsToFloat16(a0) * load16(xc))
            let hi = fma16(uintsToFloat16(b1), load16(xc + 48), uintsToFloat16(a1) * load16(xc + 32))
            acc0 = fma16(lo, splat16(scales, 2 * chunk), acc0)
            acc1 = fma16(hi, splat16(scales, 2 * chunk + 1), acc1)
            h0 = h0 &>> 2
            h1 = h1 &>> 2
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
                let a = widenBytes16(ql + 16 * k), c = widenBytes16(ql + 32 + 16 * k)
                let h = widenBytes16(qh + 16 * k)
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
