// 16-lane decode dot products (one stored row · float32 x) for CPUs with AVX-512: one
// 32-element block is two 512-bit vectors, and two rows are walked together so their
// accumulator chains overlap and each x vector is loaded once for both. Activations stay
// float32, so results equal the 8-lane `RowDot` kernels up to float32 summation order.
// Selected by `MatvecKernel.current`; on other CPUs LLVM splits the vectors (correct, not faster).

/// 16 unsigned bytes, zero-extended to 32-bit lanes (one `vpmovzxbd`).
@inline(__always)
func widenBytes16(_ p: UnsafePointer<UInt8>) -> SIMD16<UInt32> {
    SIMD16<UInt32>(UInt32(p[0]), UInt32(p[1]), UInt32(p[2]), UInt32(p[3]),
                   UInt32(p[4]), UInt32(p[5]), UInt32(p[6]), UInt32(p[7]),
                   UInt32(p[8]), UInt32(p[9]), UInt32(p[10]), UInt32(p[11]),
                   UInt32(p[12]), UInt32(p[13]), UInt32(p[14]), UInt32(p[15]))
}

/// 16 signed bytes -> 16 floats (`vpmovsxbd` + `vcvtdq2ps`).
@inline(__always)
func widenInt8x16(_ p: UnsafePointer<Int8>) -> V16 {
    let i = SIMD16<Int32>(Int32(p[0]), Int32(p[1]), Int32(p[2]), Int32(p[3]),
                          Int32(p[4]), Int32(p[5]), Int32(p[6]), Int32(p[7]),
                          Int32(p[8]), Int32(p[9]), Int32(p[10]), Int32(p[11]),
                          Int32(p[12]), Int32(p[13]), Int32(p[14]), Int32(p[15]))
    return intsToFloat16(i)
}

/// Signed 32-bit lanes -> floats (one `vcvtdq2ps`).
@inline(__always)
func intsToFloat16(_ i: SIMD16<Int32>) -> V16 {
    V16(Float(i[0]), Float(i[1]), Float(i[2]), Float(i[3]), Float(i[4]), Float(i[5]), Float(i[6]), Float(i[7]),
        Float(i[8]), Float(i[9]), Float(i[10]), Float(i[11]), Float(i[12]), Float(i[13]), Float(i[14]), Float(i[15]))
}

/// Unsigned lanes below 2^31 -> floats.
@inline(__always)
func uintsToFloat16(_ v: SIMD16<UInt32>) -> V16 {
    intsToFloat16(unsafeBitCast(v, to: SIMD16<Int32>.self))
}

/// `acc + a * b`, fused, 16 lanes.
@inline(__always)
func fma16(_ a: V16, _ b: V16, _ acc: V16) -> V16 {
    acc.addingProduct(a, b)
}

/// Lane-wise Σ q·x of one 16-byte nibble block (element j in the low nibble of byte j,
/// element j+16 in the high nibble); `xLow`/`xHigh` are x[0..<16] and x[16..<32].
@inline(__always)
func nibbleDot16(_ q: UnsafePointer<UInt8>, _ xLow: V16, _ xHigh: V16) -> V16 {
    let raw = widenBytes16(q)
    return fma16(uintsToFloat16(raw &>> 4), xHigh, uintsToFloat16(raw & 15) * xLow)
}

extension RowDot {
    /// Rows `r0` and `r1` (at `rowStride` bytes apart in `w`) of q4_1 · x, as
    /// d·Σq·x + m·Σx with `blockSums[b]` = Σx of block b.
    @inline(__always)
    static func q4_1Pair(_ row0: UnsafeRawPointer, _ row1: UnsafeRawPointer, _ x: UnsafePointer<Float>,
                         _ blockSums: UnsafePointer<Float>, _ blocks: Int) -> (Float, Float) {
        var acc0 = V16(), acc1 = V16()
        var off0: Float = 0, off1: Float = 0
        for b in 0..<blocks {
            let xb = x + b * 32
            let xLow = load16(xb), xHigh = load16(xb + 16)
            let sum = blockSums[b]
            let block0 = row0 + b * 20, block1 = row1 + b * 20
            let s0 = nibbleDot16((block0 + 4).assumingMemoryBound(to: UInt8.self), xLow, xHigh)
            let s1 = nibbleDot16((block1 + 4).assumingMemoryBound(to: UInt8.self), xLow, xHigh)
            acc0 = fma16(s0, V16(repeating: loadHalf(block0, 0)), acc0)
            acc1 = fma16(s1, V16(repeating: loadHalf(block1, 0)), acc1)
            off0 += loadHalf(block0, 2) * sum
            off1 += loadHalf(block1, 2) * sum
        }
        return (horizontalSum(acc0) + off0, horizontalSum(acc1) + off1)
    }

    /// One row of q4_1 · x, 16 lanes (the odd row left over by `q4_1Pair`).
    @inline(__always)
    static func q4_1Wide(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>,
                         _ blockSums: UnsafePointer<Float>, _ blocks: Int) -> Float {
        var acc0 = V16(), acc1 = V16()
        var offset: Float = 0
        for b in 0..<blocks {
            let xb = x + b * 32
            let block = row + b * 20
            let s = nibbleDot16((block + 4).assumingMemoryBound(to: UInt8.self), load16(xb), load16(xb + 16))
            if b & 1 == 0 { acc0 = fma16(s, V16(repeating: loadHalf(block, 0)), acc0) }
            else { acc1 = fma16(s, V16(repeating: loadHalf(block, 0)), acc1) }
            offset += loadHalf(block, 2) * blockSums[b]
        }
        return horizontalSum(acc0 + acc1) + offset
    }

    /// Rows `row0`, `row1` of q4_0 · x, as d·Σq·x − 8d·Σx.
    @inline(__always)
    static func q4_0Pair(_ row0: UnsafeRawPointer, _ row1: UnsafeRawPointer, _ x: UnsafePointer<Float>,
                         _ blockSums: UnsafePointer<Float>, _ blocks: Int) -> (Float, Float) {
        var acc0 = V16(), acc1 = V16()
        var off0: Float = 0, off1: Float = 0
        for b in 0..<blocks {
            let xb = x + b * 32
            let xLow = load16(xb), xHigh = load16(xb + 16)
            let block0 = row0 + b * 18, block1 = row1 + b * 18
            let d0 = loadHalf(block0, 0), d1 = loadHalf(block1, 0)
            let s0 = nibbleDot16((block0 + 2).assumingMemoryBound(to: UInt8.self), xLow, xHigh)
            let s1 = nibbleDot16((block1 + 2).assumingMemoryBound(to: UInt8.self), xLow, xHigh)
            acc0 = fma16(s0, V16(repeating: d0), acc0)
            acc1 = fma16(s1, V16(repeating: d1), acc1)
            off0 += d0 * blockSums[b]
            off1 += d1 * blockSums[b]
        }
        return (horizontalSum(acc0) - 8 * off0, horizontalSum(acc1) - 8 * off1)
    }

    /// One row of q4_0 · x, 16 lanes.
    @inline(__always)
    static func q4_0Wide(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>,
                         _ blockSums: UnsafePointer<Float>, _ blocks: Int) -> Float {
        var acc = V16()
        var offset: Float = 0
        for b in 0..<blocks {
            let xb = x + b * 32
            let block = row + b * 18
            let d = loadHalf(block, 0)
            let s = nibbleDot16((block + 2).assumingMemoryBound(to: UInt8.self), load16(xb), load16(xb + 16))
            acc = fma16(s, V16(repeating: d), acc)
            offset += d * blockSums[b]
        }
        return horizontalSum(acc) - 8 * offset
    }

    /// Rows `row0`, `row1` of q8_0 · x.
    @inline(__always)
    static func q8_0Pair(_ row0: UnsafeRawPointer, _ row1: UnsafeRawPointer, _ x: UnsafePointer<Float>,
                         _ blocks: Int) -> (Float, Float) {
        var acc0 = V16(), acc1 = V16()
        for b in 0..<blocks {
            let xb = x + b * 32
            let xLow = load16(xb), xHigh = load16(xb + 16)
            let block0 = row0 + b * 34, block1 = row1 + b * 34
            let q0 = (block0 + 2).assumingMemoryBound(to: Int8.self)
            let q1 = (block1 + 2).assumingMemoryBound(to: Int8.self)
            let s0 = fma16(widenInt8x16(q0 + 16), xHigh, widenInt8x16(q0) * xLow)
            let s1 = fma16(widenInt8x16(q1 + 16), xHigh, widenInt8x16(q1) * xLow)
            acc0 = fma16(s0, V16(repeating: loadHalf(block0, 0)), acc0)
            acc1 = fma16(s1, V16(repeating: loadHalf(block1, 0)), acc1)
        }
        return (horizontalSum(acc0), horizontalSum(acc1))
    }

    /// One row of q8_0 · x, 16 lanes.
    @inline(__always)
    static func q8_0Wide(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ blocks: Int) -> Float {
        var acc0 = V16(), acc1 = V16()
        for b in 0..<blocks {
            let xb = x + b * 32
            let block = row + b * 34
            let q = (block + 2).assumingMemoryBound(to: Int8.self)
            let s = fma16(widenInt8x16(q + 16), load16(xb + 16), widenInt8x16(q) * load16(xb))
            if b & 1 == 0 { acc0 = fma16(s, V16(repeating: loadHalf(block, 0)), acc0) }
            else { acc1 = fma16(s, V16(repeating: loadHalf(block, 0)), acc1) }
        }
        return horizontalSum(acc0 + acc1)
    }

    /// Σ w[i]·x[i] over `count` floats, 16 lanes and four accumulators.
    @inline(__always)
    static func f32Wide(_ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int) -> Float {
        var a0 = V16(), a1 = V16(), a2 = V16(), a3 = V16()
        var i = 0
        while i + 64 <= count {
            a0 = fma16(load16(w + i), load16(x + i), a0)
            a1 = fma16(load16(w + i + 16), load16(x + i + 16), a1)
            a2 = fma16(load16(w + i + 32), load16(x + i + 32), a2)
            a3 = fma16(load16(w + i + 48), load16(x + i + 48), a3)
            i += 64
        }
        while i + 16 <= count {
            a0 = fma16(load16(w + i), load16(x + i), a0)
            i += 16
        }
        var sum = horizontalSum((a0 + a1) + (a2 + a3))
        while i < count {
            sum += w[i] * x[i]
            i += 1
        }
        return sum
    }
}
