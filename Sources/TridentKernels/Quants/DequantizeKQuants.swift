/// Dequantizers of the 256-element super-block types (layouts in `KQuantLayout`), each
/// `blocks` super-blocks at `source` -> `blocks * 256` floats at `out`, following ggml's
/// reference `dequantize_row_*` element order.
enum KQuants {
    static func dequantizeQ2_K(_ source: UnsafeRawPointer, blocks: Int, into out: UnsafeMutablePointer<Float>) {
        typealias L = KQuantLayout.Q2
        for b in 0..<blocks {
            let block = source + b * 84
            let d = loadHalf(block, L.d), dmin = loadHalf(block, L.dmin)
            let scales = (block + L.scales).assumingMemoryBound(to: UInt8.self)
            for half in 0..<2 {
                let q = (block + L.qs + 32 * half).assumingMemoryBound(to: UInt8.self)
                for j in 0..<4 {
                    let shift = UInt32(2 * j)
                    let y = out + b * 256 + 128 * half + 32 * j
                    for part in 0..<2 {  // elements 0..<16 and 16..<32 of this group
                        let sc = scales[8 * half + 2 * j + part]
                        let dl = F8(repeating: d * Float(sc & 15)), ml = F8(repeating: -dmin * Float(sc >> 4))
                        for k in 0..<2 {
                            let v = (widenBytes(q + 16 * part + 8 * k) &>> shift) & 3
                            store8(fma8(intsToFloat(v), dl, ml), y + 16 * part + 8 * k)
                        }
                    }
                }
            }
        }
    }

    static func dequantizeQ3_K(_ source: UnsafeRawPointer, blocks: Int, into out: UnsafeMutablePointer<Float>) {
        typealias L = KQuantLayout.Q3
        for b in 0..<blocks {
            let block = source + b * 110
            let d = loadHalf(block, L.d)
            let scales = (block + L.scales).assumingMemoryBound(to: UInt8.self)
            let hmask = (block + L.hmask).assumingMemoryBound(to: UInt8.self)
            for half in 0..<2 {
                let q = (block + L.qs + 32 * half).assumingMemoryBound(to: UInt8.self)
                for j in 0..<4 {
                    let y = out + b * 256 + 128 * half + 32 * j
                    for part in 0..<2 {
                        let dl = d * KQuantScales.q3Scale(8 * half + 2 * j + part, scales)
                        for k in 0..<2 {
                            let l = 16 * part + 8 * k
                            let v = q3Values(q + l, hmask + l, shift: UInt32(2 * j), bit: UInt32(4 * half + j))
                            store8(fma8(intsToFloat(v), F8(repeating: dl), F8(repeating: -4 * dl)), y + l)
                        }
                    }
                }
            }
        }
    }

    /// 8 Q3_K values before the −4 offset: 2 bits of `q` at `shift`, plus 4 when bit `bit`
    /// of the high mask is set.
    @inline(__always)
    static func q3Values(_ q: UnsafePointer<UInt8>, _ hmask: UnsafePointer<UInt8>, shift: UInt32, bit: UInt32)
        -> SIMD8<UInt32> {
        ((widenBytes(q) &>> shift) & 3) | (((widenBytes(hmask) &>> bit) & 1) &<< 2)
    }

    static func dequantizeQ4_K(_ source: UnsafeRawPointer, blocks: Int, into out: UnsafeMutablePointer<Float>) {
        typealias L = KQuantLayout.Q4
        for b in 0..<blocks {
            let block = source + b * 144
            let d = loadHalf(block, L.d), dmin = loadHalf(block, L.dmin)
            let scales = (block + L.scales).assumingMemoryBound(to: UInt8.self)
            for chunk in 0..<4 {
                let q = (block + L.qs + 32 * chunk).assumingMemoryBound(to: UInt8.self)
                let (s0, m0) = KQuantScales.scaleMin(2 * chunk, scales)
                let (s1, m1) = KQuantScales.scaleMin(2 * chunk + 1, scales)
                let d0 = F8(repeating: d * s0), o0 = F8(repeating: -dmin * m0)
                let d1 = F8(repeating: d * s1), o1 = F8(repeating: -dmin * m1)
                let y = out + b * 256 + 64 * chunk
                for k in 0..<4 {
                    let raw = widenBytes(q + 8 * k)
                    store8(fma8(lowNibbles(raw), d0, o0), y + 8 * k)
                    store8(fma8(highNibbles(raw), d1, o1), y + 32 + 8 * k)
                }
            }
        }
    }

    static func dequantizeQ5_K(_ source: UnsafeRawPointer, blocks: Int, into out: UnsafeMutablePointer<Float>) {
        typealias L = KQuantLayout.Q5
        for b in 0..<blocks {
            let block = source + b * 176
            let d = loadHalf(block, L.d), dmin = loadHalf(block, L.dmin)
            let scales = (block + L.scales).assumingMemoryBound(to: UInt8.self)
            let qh = (block + L.qh).assumingMemoryBound(to: UInt8.self)
            for chunk in 0..<4 {
                let q = (block + L.qs + 32 * chunk).assumingMemoryBound(to: UInt8.self)
                let (s0, m0) = KQuantScales.scaleMin(2 * chunk, scales)
                let (s1, m1) = KQuantScales.scaleMin(2 * chunk + 1, scales)
                let d0 = F8(repeating: d * s0), o0 = F8(repeating: -dmin * m0)
                let d1 = F8(repeating: d * s1), o1 = F8(repeating: -dmin * m1)
                let y = out + b * 256 + 64 * chunk
                for k in 0..<4 {
                    let (lo, hi) = q5KValues(q + 8 * k, qh + 8 * k, chunk: chunk)
                    store8(fma8(intsToFloat(lo), d0, o0), y + 8 * k)
                    store8(fma8(intsToFloat(hi), d1, o1), y + 32 + 8 * k)
                }
            }
        }
    }

    /// 8 Q5_K values of each half of 64-element chunk `chunk`: nibbles of `q` plus bit
    /// `2·chunk` (low half) or `2·chunk + 1` (high half) of `qh` as bit 4.
    @inline(__always)
    static func q5KValues(_ q: UnsafePointer<UInt8>, _ qh: UnsafePointer<UInt8>, chunk: Int)
        -> (SIMD8<UInt32>, SIMD8<UInt32>) {
        let raw = widenBytes(q), high = widenBytes(qh)
        let bit = UInt32(2 * chunk)
        return ((raw & 15) | (((high &>> bit) & 1) &<< 4), (raw &>> 4) | (((high &>> (bit + 1)) & 1) &<< 4))
    }

    static func dequantizeQ6_K(_ source: UnsafeRawPointer, blocks: Int, into out: UnsafeMutablePointer<Float>) {
        typealias L = KQuantLayout.Q6
        for b in 0..<blocks {
            let block = source + b * 210
            let d = loadHalf(block, L.d)
            for half in 0..<2 {
                let ql = (block + L.ql + 64 * half).assumingMemoryBound(to: UInt8.self)
                let qh = (block + L.qh + 32 * half).assumingMemoryBound(to: UInt8.self)
                let sc = (block + L.scales + 8 * half).assumingMemoryBound(to: Int8.self)
                let y = out + b * 256 + 128 * half
                for k in 0..<4 {
                    let s = k / 2  // scale index of elements 8k ..< 8k + 8 within each 32
                    let v = q6Values(ql + 8 * k, qh + 8 * k)
                    let ds = SIMD4<Float>(Float(sc[s]), Float(sc[s + 2]), Float(sc[s + 4]), Float(sc[s + 6])) * d
                    @inline(__always) func put(_ q: SIMD8<UInt32>, _ group: Int) {
                        store8(fma8(intsToFloat(q), F8(repeating: ds[group]), F8(repeating: -32 * ds[group])),
                               y + 32 * group + 8 * k)
                    }
                    put(v.0, 0); put(v.1, 1); put(v.2, 2); put(v.3, 3)
                }
            }
        }
    }

    /// The four 6-bit values (before −32) that 8 lanes of a Q6_K half-block make: elements
    /// l, l + 32, l + 64, l + 96 from the nibbles of `ql[l]`, `ql[l + 32]` and the 2-bit
    /// pairs of `qh[l]`.
    @inline(__always)
    static func q6Values(_ ql: UnsafePointer<UInt8>, _ qh: UnsafePointer<UInt8>)
        -> (SIMD8<UInt32>, SIMD8<UInt32>, SIMD8<UInt32>, SIMD8<UInt32>) {
        let a = widenBytes(ql), c = widenBytes(ql + 32), h = widenBytes(qh)
        return ((a & 15) | ((h & 3) &<< 4), (c & 15) | (((h &>> 2) & 3) &<< 4),
                (a &>> 4) | (((h &>> 4) & 3) &<< 4), (c &>> 4) | (((h &>> 6) & 3) &<< 4))
    }

    static func dequantizeIQ4_XS(_ source: UnsafeRawPointer, blocks: Int, into out: UnsafeMutablePointer<Float>) {
        typealias L = KQuantLayout.IQ4XS
        for b in 0..<blocks {
            let block = source + b * 136
            let d = loadHalf(block, L.d)
            let high = block.loadUnaligned(fromByteOffset: L.scalesHigh, as: UInt16.self)
            let low = (block + L.scalesLow).assumingMemoryBound(to: UInt8.self)
            for ib in 0..<8 {
                let dl = d * KQuantScales.iq4xsScale(ib, low: low, high: high)
                Blocks32.storeIQ4((block + L.qs + 16 * ib).assumingMemoryBound(to: UInt8.self), scale: dl,
                                  out + b * 256 + 32 * ib)
            }
        }
    }
}
