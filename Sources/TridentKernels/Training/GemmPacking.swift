/// Copies panels of `BlockedProduct`'s operands into the layout its micro-kernels read, with
/// a contiguous fast path for each operand's two common layouts (row-major, and a transpose)
/// and a strided general case. Padding rows and columns are zero.
enum GemmPacking {
    /// Rows `first ..< first + live` of `A[:, depth ..< depth + kc]` as `[kc][mr]`.
    static func packRowPanel(_ a: StridedMatrix, first: Int, live: Int, depth: Int, kc: Int, mr: Int,
                             into out: UnsafeMutablePointer<Float>) {
        if live < mr { out.update(repeating: 0, count: mr * kc) }
        if a.rowStride == 1 {
            // A is a transpose: the rows of one depth step are adjacent.
            for p in 0..<kc { copyShort(a.base + (depth + p) * a.columnStride + first, out + p * mr, live) }
        } else {
            let stride = a.columnStride
            for r in 0..<live {
                let source = a.base + (first + r) * a.rowStride + depth * stride
                for p in 0..<kc { out[p * mr + r] = source[p * stride] }
            }
        }
    }

    /// Columns `first ..< first + live` of `B[depth ..< depth + kc, :]` as `[kc][nr]`.
    static func packColumnPanel(_ b: StridedMatrix, first: Int, live: Int, depth: Int, kc: Int, nr: Int,
                                into out: UnsafeMutablePointer<Float>) {
        if live < nr { out.update(repeating: 0, count: nr * kc) }
        if b.columnStride == 1 {
            // Row-major B: the columns of one depth step are adjacent.
            for p in 0..<kc { copyShort(b.base + (depth + p) * b.rowStride + first, out + p * nr, live) }
        } else {
            var start = 0
            if b.rowStride == 1 && live == nr {
                // B is a transpose (a weight `W` read as `Wᵀ`): 16 × 16 blocks through registers.
                while start + 16 <= kc {
                    var half = 0
                    while half < nr {
                        transpose16(b.base + (first + half) * b.columnStride + depth + start, b.columnStride,
                                    out + start * nr + half, nr)
                        half += 16
                    }
                    start += 16
                }
            }
            let stride = b.rowStride
            for j in 0..<live {
                let source = b.base + (first + j) * b.columnStride + depth * stride
                for p in start..<kc { out[p * nr + j] = source[p * stride] }
            }
        }
    }

    /// Writes the transpose of the 16 × 16 block at `source` (row stride `sourceStride`) at
    /// `target` (row stride `targetStride`): four rounds of interleaving rows `i` and `i + 8`
    /// (each a pair of two-source permutes), instead of 256 scalar moves.
    @inline(__always)
    static func transpose16(_ source: UnsafePointer<Float>, _ sourceStride: Int,
                            _ target: UnsafeMutablePointer<Float>, _ targetStride: Int) {
        withUnsafeTemporaryAllocation(of: V16.self, capacity: 32) { buffer in
            var rows = buffer.baseAddress!, next = rows + 16
            for i in 0..<16 { rows[i] = load16(source + i * sourceStride) }
            for _ in 0..<4 {
                for i in 0..<8 {
                    next[2 * i] = interleaveLow(rows[i], rows[i + 8])
                    next[2 * i + 1] = interleaveHigh(rows[i], rows[i + 8])
                }
                swap(&rows, &next)
            }
            for i in 0..<16 { store16(rows[i], target + i * targetStride) }
        }
    }

    /// Lanes `a0 b0 a1 b1 … a7 b7`.
    @inline(__always)
    static func interleaveLow(_ a: V16, _ b: V16) -> V16 {
        var r = V16()
        for i in 0..<8 { r[2 * i] = a[i]; r[2 * i + 1] = b[i] }
        return r
    }

    /// Lanes `a8 b8 a9 b9 … a15 b15`.
    @inline(__always)
    static func interleaveHigh(_ a: V16, _ b: V16) -> V16 {
        var r = V16()
        for i in 0..<8 { r[2 * i] = a[8 + i]; r[2 * i + 1] = b[8 + i] }
        return r
    }

    /// Copies `count` (≤ 32) floats with vector moves for the panel widths (a plain loop
    /// becomes a `memcpy` call per depth step).
    @inline(__always)
    static func copyShort(_ source: UnsafePointer<Float>, _ target: UnsafeMutablePointer<Float>, _ count: Int) {
        switch count {
        case 32:
            store16(load16(source), target)
            store16(load16(source + 16), target + 16)
        case 16:
            store16(load16(source), target)
        case 12:
            let raw = UnsafeRawPointer(source), out = UnsafeMutableRawPointer(target)
            out.storeBytes(of: raw.loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
            out.storeBytes(of: raw.loadUnaligned(fromByteOffset: 32, as: SIMD4<Float>.self), toByteOffset: 32,
                           as: SIMD4<Float>.self)
        case 6:
            let raw = UnsafeRawPointer(source), out = UnsafeMutableRawPointer(target)
            out.storeBytes(of: raw.loadUnaligned(as: SIMD4<Float>.self), as: SIMD4<Float>.self)
            out.storeBytes(of: raw.loadUnaligned(fromByteOffset: 16, as: SIMD2<Float>.self), toByteOffset: 16,
                           as: SIMD2<Float>.self)
        default:
            for i in 0..<count { target[i] = source[i] }
        }
    }
}
