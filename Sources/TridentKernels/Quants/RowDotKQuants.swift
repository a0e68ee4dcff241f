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
            let scales = (block + L.scales).assumingMemoryBound(to: UInt8.self)
            for half in 0..<2 {
                let q = (block + L.qs + 32 * half).assumingMemoryBound(to: UInt8.self)
                for j in 0..<4 {
                    let shift = UInt32(2 * j)
                    for part in 0..<2 {
                        let xs = x + 256 * b + 128 * half + 32 * j + 16 * part
                        let x0 = load8(xs), x1 = load8(xs + 8)
                        let v0 = intsToFloat((widenBytes(q + 16 * part) &>> shift) & 3)
                        let v1 = intsToFloat((widenBytes(q + 16 * part + 8) &>> shift) & 3)
                        let sc = scales[8 * half + 2 * j + part]
                        acc = fma8(fma8(v0, x0, v1 * x1), F8(repeating: d * Float(sc & 15)), acc)
                        mins = fma8(x0 + x1, F8(repeating: dmin * Float(sc >> 4)), mins)
                    }
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
            let d = loadHalf(block, L.d)
            let scales = (block + L.scales).assumingMemoryBound(to: UInt8.self)
            let hmask = (block + L.hmask).assumingMemoryBound(to: UInt8.self)
            for half in 0..<2 {
                let q = (block + L.qs + 32 * half).assumingMemoryBound(to: UInt8.self)
                for j in 0..<4 {
                    let xj = x + 256 * b + 128 * half + 32 * j
                    let shift = UInt32(2 * j), bit = UInt32(4 * half + j)
                    @inline(__always) func part(_ l: Int) -> F8 {
                        let v0 = biasedToFloat(KQuants.q3Values(q + l, hmask + l, shift: shift, bit: bit), bias: 4)
                        let v1 = biasedToFloat(KQuants.q3Values(q + l + 8, hmask + l + 8, shift: shift, bit: bit), bias: 4)
                        return fma8(v0, load8(xj + l), v1 * load8(xj + l + 8))
                    }
                    acc0 = fma8(part(0), F8(repeating: d * KQuantScales.q3Scale(8 * half + 2 * j, scales)), acc0)
                    acc1 = fma8(part(16), F8(repeating: d * KQuantScales.q3Scale(8 * half + 2 * j + 1, scales)), acc1)
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
            let qh = (block + L.qh).assumingMemoryBound(to: UInt8.self)
            for chunk in 0..<4 {
                let q = (block + L.qs + 32 * chunk).assumingMemoryBound(to: UInt8.self)
                let xc = x + 256 * b + 64 * chunk
                let (s0, m0) = KQuantScales.scaleMin(2 * chunk, scales)
                let (s1, m1) = KQuantScales.scaleMin(2 * chunk + 1, scales)
                var lo = F8(), hi = F8()
                for k in 0..<4 {
                    let (vl, vh) = KQuants.q5KValues(q + 8 * k, qh + 8 * k, chunk: chunk)
                    lo = fma8(intsToFloat(vl), load8(xc + 8 * k), lo)
                    hi = fma8(intsToFloat(vh), load8(xc + 32 + 8 * k), hi)
                }
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
