/// Dot products of one stored weight row with one float32 activation vector, per dtype.
/// These are the matrix-vector (decode) inner loops; activations stay float32.
enum RowDot {
    /// Σ w[i]·x[i] over `count` floats.
    @inline(__always)
    static func f32(_ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int) -> Float {
        var a0 = F8(), a1 = F8(), a2 = F8(), a3 = F8()
        var i = 0
        while i + 32 <= count {
            a0 = fma8(load8(w + i), load8(x + i), a0)
            a1 = fma8(load8(w + i + 8), load8(x + i + 8), a1)
            a2 = fma8(load8(w + i + 16), load8(x + i + 16), a2)
            a3 = fma8(load8(w + i + 24), load8(x + i + 24), a3)
            i += 32
        }
        while i + 8 <= count {
            a0 = fma8(load8(w + i), load8(x + i), a0)
            i += 8
        }
        var sum = hsum8((a0 + a1) + (a2 + a3))
        while i < count {
            sum += w[i] * x[i]
            i += 1
        }
        return sum
    }

    /// Row of `blocks` q8_0 blocks · x.
    @inline(__always)
    static func q8_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ blocks: Int) -> Float {
        var acc0 = F8(), acc1 = F8()
        for b in 0..<blocks {
            let block = row + b * 34
            let d = HalfConversion.f16ToF32(block.loadUnaligned(as: UInt16.self))
            let q = (block + 2).assumingMemoryBound(to: Int8.self)
            let xb = x + b * 32
            var s0 = widenInt8(q) * load8(xb)
            var s1 = widenInt8(q + 8) * load8(xb + 8)
            s0 = fma8(widenInt8(q + 16), load8(xb + 16), s0)
            s1 = fma8(widenInt8(q + 24), load8(xb + 24), s1)
            if b & 1 == 0 { acc0 = fma8(s0 + s1, F8(repeating: d), acc0) }
            else { acc1 = fma8(s0 + s1, F8(repeating: d), acc1) }
        }
        return hsum8(acc0 + acc1)
    }

    /// Row of `blocks` q4_0 blocks · x, as d·Σq·x − 8d·Σx with `blockSums[b]` = Σx of block b.
    @inline(__always)
    static func q4_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>,
                     _ blockSums: UnsafePointer<Float>, _ blocks: Int) -> Float {
        var acc = F8()
        var offset: Float = 0
        for b in 0..<blocks {
            let block = row + b * 18
            let d = HalfConversion.f16ToF32(block.loadUnaligned(as: UInt16.self))
            let s = nibbleDot((block + 2).assumingMemoryBound(to: UInt8.self), x + b * 32)
            acc = fma8(s, F8(repeating: d), acc)
            offset += d * blockSums[b]
        }
        return hsum8(acc) - 8 * offset
    }

    /// Row of `blocks` q4_1 blocks · x, as d·Σq·x + m·Σx with `blockSums[b]` = Σx of block b.
    @inline(__always)
    static func q4_1(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>,
                     _ blockSums: UnsafePointer<Float>, _ blocks: Int) -> Float {
        var acc0 = F8(), acc1 = F8()
        var offset: Float = 0
        for b in 0..<blocks {
            let block = row + b * 20
            let d = HalfConversion.f16ToF32(block.loadUnaligned(as: UInt16.self))
            let m = HalfConversion.f16ToF32(block.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
            let s = nibbleDot((block + 4).assumingMemoryBound(to: UInt8.self), x + b * 32)
            if b & 1 == 0 { acc0 = fma8(s, F8(repeating: d), acc0) }
            else { acc1 = fma8(s, F8(repeating: d), acc1) }
            offset += m * blockSums[b]
        }
        return hsum8(acc0 + acc1) + offset
    }

    /// Lane-wise partial sums of Σ q·x for one 16-byte nibble block (element j in the low
    /// nibble of byte j, element j+16 in the high nibble). Written as one FMA chain: with a
    /// separate multiply first, LLVM scalarised the nibble conversion (checked with objdump).
    @inline(__always)
    static func nibbleDot(_ q: UnsafePointer<UInt8>, _ x: UnsafePointer<Float>) -> F8 {
        let raw0 = widenBytes(q), raw1 = widenBytes(q + 8)
        let s0 = fma8(lowNibbles(raw0), load8(x), lowNibbles(raw1) * load8(x + 8))
        return fma8(highNibbles(raw0), load8(x + 16), fma8(highNibbles(raw1), load8(x + 24), s0))
    }

    /// Row of `count` f16 values · x.
    @inline(__always)
    static func f16(_ row: UnsafePointer<UInt16>, _ x: UnsafePointer<Float>, _ count: Int) -> Float {
        var a0 = F8(), a1 = F8()
        var i = 0
        while i + 16 <= count {
            a0 = fma8(widenF16(row + i), load8(x + i), a0)
            a1 = fma8(widenF16(row + i + 8), load8(x + i + 8), a1)
            i += 16
        }
        var sum = hsum8(a0 + a1)
        while i < count {
            sum += HalfConversion.f16ToF32(row[i]) * x[i]
            i += 1
        }
        return sum
    }

    /// Row of `count` bf16 values · x.
    @inline(__always)
    static func bf16(_ row: UnsafePointer<UInt16>, _ x: UnsafePointer<Float>, _ count: Int) -> Float {
        var a0 = F8(), a1 = F8()
        var i = 0
        while i + 16 <= count {
            a0 = fma8(widenBF16(row + i), load8(x + i), a0)
            a1 = fma8(widenBF16(row + i + 8), load8(x + i + 8), a1)
            i += 16
        }
        var sum = hsum8(a0 + a1)
        while i < count {
            sum += HalfConversion.bf16ToF32(row[i]) * x[i]
            i += 1
        }
        return sum
    }

    /// Per-block sums Σx over `blocks` blocks of 32 (for the q4 offset terms).
    static func blockSums(_ x: UnsafePointer<Float>, _ blocks: Int, into sums: UnsafeMutablePointer<Float>) {
        for b in 0..<blocks {
            let xb = x + b * 32
            sums[b] = hsum8((load8(xb) + load8(xb + 8)) + (load8(xb + 16) + load8(xb + 24)))
        }
    }
}
