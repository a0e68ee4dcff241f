// 16-lane decode loops of the 2-, 3- and IQ4-bit super-block types Q2_K, Q3_K and IQ4_XS,
// one super-block of 256 elements per `add` (layouts in `KQuantLayout`, element order as in
// `KQuants`' dequantizers). Scales are decoded once per super-block into a vector; minimum
// (Q2_K) and bias (Q3_K) terms come from Σx per 16 elements; IQ4 values are a table lookup.

/// ggml's IQ4 non-linear grid (`kvalues_iq4nl`) as a 16-lane table for `lookup16`.
@inline(__always)
var iq4Table: V16 { V16(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113) }

/// Q2_K: value = d·sc·q − dmin·m per 16 elements; Σ = Σ_g d·sc_g·Σq·x − Σ_g dmin·m_g·Σx_g.
struct Q2KRowDot: WideRowDot {
    static var elements: Int { 256 }
    static var bytes: Int { 84 }
    static var sums: WideSums { .per16 }
    var acc0 = V16(), acc1 = V16()
    var minimums = V16()  // lane g: Σ dmin·m_g·Σx_g

    @inline(__always)
    mutating func add(_ block: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>) {
        typealias L = KQuantLayout.Q2
        let packed = widenOpaque16((block + L.scales).assumingMemoryBound(to: UInt8.self))
        let scales = uintsToFloat16(packed & 15) * loadHalf(block, L.d)
        minimums = fma16(uintsToFloat16(packed &>> 4) * loadHalf(block, L.dmin), load16(sums), minimums)
        for half in 0..<2 {
            let q = (block + L.qs + 32 * half).assumingMemoryBound(to: UInt8.self)
            var a = widenOpaque16(q), b = widenOpaque16(q + 16)  // shifted right by 2 per group
            for j in 0..<4 {  // elements 128·half + 32·j ..< +32: scales g, g + 1
                let xs = x + 128 * half + 32 * j
                let g = 8 * half + 2 * j
                acc0 = fma16(uintsToFloat16(a & 3) * load16(xs), splat16(scales, g), acc0)
                acc1 = fma16(uintsToFloat16(b & 3) * load16(xs + 16), splat16(scales, g + 1), acc1)
                a = a &>> 2
                b = b &>> 2
            }
        }
    }

    @inline(__always) var total: Float { horizontalSum(acc0 + acc1) - horizontalSum(minimums) }
}

/// Q3_K: value = d·(sc − 32)·(q − 4) per 16 elements, q = 2 low bits + 4·(high-mask bit);
/// Σ = Σ_g d·sc_g·(Σq·x − 4·Σx_g).
struct Q3KRowDot: WideRowDot {
    static var elements: Int { 256 }
    static var bytes: Int { 110 }
    static var sums: WideSums { .per16 }
    var acc0 = V16(), acc1 = V16()
    var bias = V16()  // lane g: Σ d·sc_g·Σx_g

    @inline(__always)
    mutating func add(_ block: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>) {
        typealias L = KQuantLayout.Q3
        let scales = KQuantScales.q3ScalesVector((block + L.scales).assumingMemoryBound(to: UInt8.self))
            * loadHalf(block, L.d)
        bias = fma16(scales, load16(sums), bias)
        let hm = (block + L.hmask).assumingMemoryBound(to: UInt8.self)
        var m0 = widenOpaque16(hm), m1 = widenOpaque16(hm + 16)  // bit 4·half + j, shifted down per group
        for half in 0..<2 {
            let q = (block + L.qs + 32 * half).assumingMemoryBound(to: UInt8.self)
            var a = widenOpaque16(q), b = widenOpaque16(q + 16)
            for j in 0..<4 {
                let xs = x + 128 * half + 32 * j
                let g = 8 * half + 2 * j
                let va = (a & 3) | ((m0 &<< 2) & 4), vb = (b & 3) | ((m1 &<< 2) & 4)
                acc0 = fma16(uintsToFloat16(va) * load16(xs), splat16(scales, g), acc0)
                acc1 = fma16(uintsToFloat16(vb) * load16(xs + 16), splat16(scales, g + 1), acc1)
                a = a &>> 2
                b = b &>> 2
                m0 = m0 &>> 1
                m1 = m1 &>> 1
            }
        }
    }

    @inline(__always) var total: Float { horizontalSum(acc0 + acc1) - 4 * horizontalSum(bias) }
}

/// IQ4_XS: value = d·(sc − 32)·iq4[q] per 32 elements (8 sub-blocks laid out as iq4_nl).
struct IQ4XSRowDot: WideRowDot {
    static var elements: Int { 256 }
    static var bytes: Int { 136 }
    static var sums: WideSums { .none }
    var acc0 = V16(), acc1 = V16()

    @inline(__always)
    mutating func add(_ block: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>) {
        typealias L = KQuantLayout.IQ4XS
        let table = iq4Table
        let scales = Self.scales(block) * loadHalf(block, L.d)
        let qs = (block + L.qs).assumingMemoryBound(to: UInt8.self)
        @inline(__always) func subBlock(_ ib: Int) -> V16 {
            let raw = widenOpaque16(qs + 16 * ib)
            let xb = x + 32 * ib
            return fma16(lookup16(table, raw &>> 4), load16(xb + 16), lookup16(table, raw) * load16(xb))
        }
        for ib in stride(from: 0, to: 8, by: 2) {  // even sub-blocks into acc0, odd into acc1
            acc0 = fma16(subBlock(ib), splat16(scales, ib), acc0)
            acc1 = fma16(subBlock(ib + 1), splat16(scales, ib + 1), acc1)
        }
    }

    /// The 8 signed sub-block scales (minus 32), equal to `KQuantScales.iq4xsScale(ib, ...)`:
    /// low 4 bits = nibble ib of the 4 low-scale bytes, high 2 bits = bits 2·ib of the u16.
    @inline(__always)
    static func scales(_ block: UnsafeRawPointer) -> F8 {
        typealias L = KQuantLayout.IQ4XS
        let low = block.loadUnaligned(fromByteOffset: L.scalesLow, as: UInt32.self)
        let high = UInt32(block.loadUnaligned(fromByteOffset: L.scalesHigh, as: UInt16.self))
        let lowBits = (SIMD8<UInt32>(repeating: low) &>> SIMD8<UInt32>(0, 4, 8, 12, 16, 20, 24, 28)) & 15
        let highBits = (SIMD8<UInt32>(repeating: high) &>> SIMD8<UInt32>(0, 2, 4, 6, 8, 10, 12, 14)) & 3
        return biasedToFloat(lowBits | (highBits &<< 4), bias: 32)
    }

    @inline(__always) var total: Float { horizontalSum(acc0 + acc1) }
}
