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
            let stride = b.rowStride
            for j in 0..<live {
                let source = b.base + (first + j) * b.columnStride + depth * stride
                for p in 0..<kc { out[p * nr + j] = source[p * stride] }
            }
        }
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
