/// Decode dot products (one stored row · float32 x) of the 256-element super-block types
/// (layouts in `KQuantLayout`; element order as in `KQuants`' dequantizers). Each takes the
/// row's super-block count; Q4_K and Q5_K take `blockSums` (Σx per 32 elements) for their
/// minimum terms, as q4_1 does.
extension RowDot {
    static func q2_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ superBlocks: Int) -> Float {
        typealias L = KQuantLayout.Q2
        var acc = F8(), mins = F8()
        for b in 0..<superBlocks {
            let block = row + b * 84
            let d = loadHalf(block, L.d), dmin = loadHalf(block, L.dmin)
            let (sc, mn) = KQuantScales.q2ScalesMins((block + L.scales).assumingMemoryBound(to: UInt8.self))
            let scales = sc * d, minimums = mn * dmin
            for half in 0..<2 {
                // The 32 bytes of this half, widened once and shifted for each of the 4 groups.
                let q = (block + L.qs + 32 * half).assumingMemoryBound(to: UInt8.self)
                let q0 = widenBytes(q), q1 = widenBytes(q + 8), q2 = widenBytes(q + 16), q3 = widenBytes(q + 24)
                for j in 0..<4 {
                    let shift = UInt32(2 * j)
                    @inline(__always) func v(_ raw: SIMD8<UInt32>) -> F8 { intsToFloat((raw &>> shift) & 3) }
                    let xs = x + 256 * b + 128 * half + 32 * j
                    let x0 = load8(xs), x1 = load8(xs + 8), x2 = load8(xs + 16), x3 = load8(xs + 24)
                    let g = 8 * half + 2 * j
                    acc = fma8(fma8(v(q0), x0, v(q1) * x1), F8(repeating: scales[g]), acc)
                    acc = fma8(fma8(v(q2), x2, v(q3) * x3), F8(repeating: scales[g + 1]), acc)
                    mins = fma8(x0 + x1, F8(repeating: minimums[g]), mins)
                    mins = fma8(x2 + x3, F8(repeating: minimums[g + 1]), mins)
                }
            }
        }
        return hsum8(acc) - hsum8(mins)
    }

    static func q3_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ superBlocks: Int) -> Float {
        typealias L = KQuantLayout.Q3
        var acc0 = F8(), acc1 = F8()
        for b in 0..<superBlocks {
            let block = row + b * 110
            let scales = KQuantScales.q3ScalesVector((block + L.scales).assumingMemoryBound(to: UInt8.self))
                * loadHalf(block, L.d)
            // The high-bit mask and each half's 2-bit bytes are widened once, then shifted.
            let hm = (block + L.hmask).assumingMemoryBound(to: UInt8.self)
            let m0 = widenBytes(hm), m1 = widenBytes(hm + 8), m2 = widenBytes(hm + 16), m3 = widenBytes(hm + 24)
            for half in 0..<2 {
                let q = (block + L.qs + 32 * half).assumingMemoryBound(to: UInt8.self)
                let q0 = widenBytes(q), q1 = widenBytes(q + 8), q2 = widenBytes(q + 16), q3 = widenBytes(q + 24)
                for j in 0..<4 {
                    let shift = UInt32(2 * j), bit = UInt32(4 * half + j)
                    @inline(__always) func v(_ q: SIMD8<UInt32>, _ m: SIMD8<UInt32>) -> F8 {
                        biasedToFloat(((q &>> shift) & 3) | (((m &>> bit) & 1) &<< 2), bias: 4)
                    }
                    let xj = x + 256 * b + 128 * half + 32 * j
                    let pA = fma8(v(q0, m0), load8(xj), v(q1, m1) * load8(xj + 8))
                    let pB = fma8(v(q2, m2), load8(xj + 16), v(q3, m3) * load8(xj + 24))
                    acc0 = fma8(pA, F8(repeating: scales[8 * half + 2 * j]), acc0)
                    acc1 = fma8(pB, F8(repeating: scales[8 * half + 2 * j + 1]), acc1)
                }
            }
        }
        return hsum8(acc0 + acc1)
    }

    static func q4_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>,
                     _ blockSums: UnsafePointer<Float>, _ superBlocks: Int) -> Float {
        typealias L = KQuantLayout.Q4
        var acc0 = F8(), acc1 = F8()
        var offset: Float = 0
        for b in 0..<superBlocks {
            let block = row + b * 144
            let d = loadHalf(block, L.d), dmin = loadHalf(block, L.dmin)
            let scales = (block + L.scales).assumingMemoryBound(to: UInt8.self)
            for chunk in 0..<4 {
                let q = (block + L.qs + 32 * chunk).assumingMemoryBound(to: UInt8.self)
                let xc = x + 256 * b + 64 * chunk
                let (s0, m0) = KQuantScales.scaleMin(2 * chunk, scales)
                let (s1, m1) = KQuantScales.scaleMin(2 * chunk + 1, scales)
                var lo = lowNibbles(widenBytes(q)) * load8(xc)
                var hi = highNibbles(widenBytes(q)) * load8(xc + 32)
                for k in 1..<4 {
                    let raw = widenBytes(q + 8 * k)
                    lo = fma8(lowNibbles(raw), load8(xc + 8 * k), lo)
                    hi = fma8(highNibbles(raw), load8(xc + 32 + 8 * k), hi)
                }
                acc0 = fma8(lo, F8(repeating: d * s0), acc0)
                acc1 = fma8(hi, F8(repeating: d * s1), acc1)
                let sums = blockSums + 8 * b + 2 * chunk
                offset += dmin * (m0 * sums[0] + m1 * sums[1])
            }
        }
        return hsum8(acc0 + acc1) - offset
    }

    static func q5_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>,
                     _ blockSums: UnsafePointer<Float>, _ superBlocks: Int) -> Float {
        typealias L = KQuantLayout.Q5
        var acc0 = F8(), acc1 = F8()
        var offset: Float = 0
        for b in 0..<superBlocks {
            let block = row + b * 176
            let d = loadHalf(block, L.d), dmin = loadHalf(block, L.dmin)
            let scales = (block + L.scales).assumingMemoryBound(to: UInt8.self)
            // The 32 fifth-bit bytes, widened once for the 4 chunks (chunk c uses bits 2c, 2c + 1).
            let qh = (block + L.qh).assumingMemoryBound(to: UInt8.self)
            let h0 = widenBytes(qh), h1 = widenBytes(qh + 8), h2 = widenBytes(qh + 16), h3 = widenBytes(qh + 24)
            for chunk in 0..<4 {
                let q = (block + L.qs + 32 * chunk).assumingMemoryBound(to: UInt8.self)
                let xc = x + 256 * b + 64 * chunk
                let (s0, m0) = KQuantScales.scaleMin(2 * chunk, scales)
                let (s1, m1) = KQuantScales.scaleMin(2 * chunk + 1, scales)
                let bit = UInt32(2 * chunk)
                var lo = F8(), hi = F8()
                @inline(__always) func step(_ k: Int, _ h: SIMD8<UInt32>) {
                    let raw = widenBytes(q + 8 * k), hb = h &>> bit
                    lo = fma8(intsToFloat((raw & 15) | ((hb & 1) &<< 4)), load8(xc + 8 * k), lo)
                    hi = fma8(intsToFloat((raw &>> 4) | ((hb & 2) &<< 3)), load8(xc + 32 + 8 * k), hi)
                }
                step(0, h0); step(1, h1); step(2, h2); step(3, h3)
                acc0 = fma8(lo, F8(repeating: d * s0), acc0)
                acc1 = fma8(hi, F8(repeating: d * s1), acc1)
                let sums = blockSums + 8 * b + 2 * chunk
                offset += dmin * (m0 * sums[0] + m1 * sums[1])
            }
        }
        return hsum8(acc0 + acc1) - offset
    }

    static func q6_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ superBlocks: Int) -> Float {
        typealias L = KQuantLayout.Q6
        var acc0 = F8(), acc1 = F8()
        for b in 0..<superBlocks {
            let block = row + b * 210
            let d = loadHalf(block, L.d)
            for half in 0..<2 {
                let ql = (block + L.ql + 64 * half).assumingMemoryBound(to: UInt8.self)
                let qh = (block + L.qh + 32 * half).assumingMemoryBound(to: UInt8.self)
                let sc = (block + L.scales + 8 * half).assumingMemoryBound(to: Int8.self)
                let xh = x + 256 * b + 128 * half
                for s in 0..<2 {  // the two 16-element scale groups of each 32
                    var p0 = F8(), p1 = F8(), p2 = F8(), p3 = F8()
                    for k in (2 * s)..<(2 * s + 2) {
                        let v = KQuants.q6Values(ql + 8 * k, qh + 8 * k)
                        p0 = fma8(biasedToFloat(v.0, bias: 32), load8(xh + 8 * k), p0)
                        p1 = fma8(biasedToFloat(v.1, bias: 32), load8(xh + 32 + 8 * k), p1)
                        p2 = fma8(biasedToFloat(v.2, bias: 32), load8(xh + 64 + 8 * k), p2)
                        p3 = fma8(biasedToFloat(v.3, bias: 32), load8(xh + 96 + 8 * k), p3)
                    }
                    acc0 = fma8(p0, F8(repeating: d * Float(sc[s])), acc0)
                    acc1 = fma8(p1, F8(repeating: d * Float(sc[s + 2])), acc1)
                    acc0 = fma8(p2, F8(repeating: d * Float(sc[s + 4])), acc0)
                    acc1 = fma8(p3, F8(repeating: d * Float(sc[s + 6])), acc1)
                }
            }
        }
        return hsum8(acc0 + acc1)
    }

    static func iq4_xs(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ superBlocks: Int) -> Float {
        typealias L = KQuantLayout.IQ4XS
        var acc0 = F8(), acc1 = F8()
        for b in 0..<superBlocks {
            let block = row + b * 136
            let d = loadHalf(block, L.d)
            let high = block.loadUnaligned(fromByteOffset: L.scalesHigh, as: UInt16.self)
            let low = (block + L.scalesLow).assumingMemoryBound(to: UInt8.self)
            for ib in 0..<8 {
                let s = iq4Dot((block + L.qs + 16 * ib).assumingMemoryBound(to: UInt8.self), x + 256 * b + 32 * ib)
                let dl = F8(repeating: d * KQuantScales.iq4xsScale(ib, low: low, high: high))
                if ib & 1 == 0 { acc0 = fma8(s, dl, acc0) } else { acc1 = fma8(s, dl, acc1) }
            }
        }
        return hsum8(acc0 + acc1)
    }
}
