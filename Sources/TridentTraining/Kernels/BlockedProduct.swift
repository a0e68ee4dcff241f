import TridentKernels

/// A read-only f32 matrix with arbitrary strides: element `(i, j)` is at
/// `base[i * rowStride + j * columnStride]` (a transpose is the same memory with the strides swapped).
struct StridedMatrix {
    let base: UnsafePointer<Float>
    let rowStride: Int
    let columnStride: Int

    @inline(__always)
    subscript(i: Int, j: Int) -> Float { base[i * rowStride + j * columnStride] }
}

/// `C = (accumulate ? C : 0) + A · B`, cache-blocked and spread over a thread pool.
///
/// Work items are `rowBlock × columnBlock` tiles of `C`, each owned by one thread (no races,
/// deterministic sums). Inside a tile, the depth is walked in `depthBlock` chunks: the chunk
/// of `A` is packed into 4-row panels (contiguous broadcasts whatever A's strides), then a
/// 4-row × 32-column register micro-kernel (8 accumulators of 16 lanes, 2 loads + 4
/// broadcasts per 8 FMAs) streams the matching rows of `B`.
enum BlockedProduct {
    static let rowBlock = 32
    static let columnBlock = 128
    static let depthBlock = 256

    /// - Parameters:
    ///   - a: `[m, k]` (any strides).
    ///   - b: `[k, n]` row-major with row stride `ldb`.
    ///   - c: `[m, n]` row-major with row stride `ldc`; written (or accumulated into).
    static func multiply(a: StridedMatrix, b: UnsafePointer<Float>, ldb: Int,
                         c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int,
                         accumulate: Bool, pool: ThreadPool) {
        if m == 0 || n == 0 { return }
        let rowTiles = (m + rowBlock - 1) / rowBlock
        let columnTiles = (n + columnBlock - 1) / columnBlock
        pool.parallelFor(rowTiles * columnTiles) { item in
            let rows = (item / columnTiles * rowBlock)..<min(m, (item / columnTiles + 1) * rowBlock)
            let columns = (item % columnTiles * columnBlock)..<min(n, (item % columnTiles + 1) * columnBlock)
            if !accumulate {
                for i in rows { (c + i * ldc + columns.lowerBound).update(repeating: 0, count: columns.count) }
            }
            multiplyTile(a: a, b: b, ldb: ldb, c: c, ldc: ldc, rows: rows, columns: columns, k: k)
        }
    }

    /// Accumulates rows × columns of `C` over the whole depth `k`.
    private static func multiplyTile(a: StridedMatrix, b: UnsafePointer<Float>, ldb: Int,
                                     c: UnsafeMutablePointer<Float>, ldc: Int,
                                     rows: Range<Int>, columns: Range<Int>, k: Int) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: rowBlock * depthBlock) { buffer in
            let packed = buffer.baseAddress!
            var depth = 0
            while depth < k {
                let kc = min(depthBlock, k - depth)
                pack(a, rows: rows, depth: depth, kc: kc, into: packed)
                var group = 0
                while group * 4 < rows.count {
                    let firstRow = rows.lowerBound + group * 4
                    let live = min(4, rows.upperBound - firstRow)
                    panel(packed + group * 4 * kc, b: b + depth * ldb, ldb: ldb, kc: kc,
                          c: c + firstRow * ldc, ldc: ldc, rows: live, columns: columns)
                    group += 1
                }
                depth += kc
            }
        }
    }

    /// Packs `A[rows, depth ..< depth + kc]` as 4-row groups `[group][p][4]`, zero-padded.
    @inline(__always)
    private static func pack(_ a: StridedMatrix, rows: Range<Int>, depth: Int, kc: Int,
                             into packed: UnsafeMutablePointer<Float>) {
        let groups = (rows.count + 3) / 4
        for g in 0..<groups {
            let out = packed + g * 4 * kc
            for r in 0..<4 {
                let i = rows.lowerBound + g * 4 + r
                if i < rows.upperBound {
                    for p in 0..<kc { out[p * 4 + r] = a[i, depth + p] }
                } else {
                    for p in 0..<kc { out[p * 4 + r] = 0 }
                }
            }
        }
    }

    /// One 4-row panel against `columns` of B: 32-wide, then 16-wide, then scalar tails.
    @inline(__always)
    private static func panel(_ pa: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int, kc: Int,
                              c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, columns: Range<Int>) {
        var j = columns.lowerBound
        while j + 32 <= columns.upperBound {
            kernel4x32(pa, b + j, ldb, kc, c + j, ldc, rows)
            j += 32
        }
        while j + 16 <= columns.upperBound {
            kernel4x16(pa, b + j, ldb, kc, c + j, ldc, rows)
            j += 16
        }
        while j < columns.upperBound {
            for r in 0..<rows {
                var sum: Float = 0
                for p in 0..<kc { sum += pa[p * 4 + r] * b[p * ldb + j] }
                c[r * ldc + j] += sum
            }
            j += 1
        }
    }

    @inline(__always)
    private static func kernel4x32(_ pa: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ ldb: Int, _ kc: Int,
                                   _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ rows: Int) {
        var c00 = V16(), c01 = V16(), c10 = V16(), c11 = V16()
        var c20 = V16(), c21 = V16(), c30 = V16(), c31 = V16()
        for p in 0..<kc {
            let b0 = load16(b + p * ldb), b1 = load16(b + p * ldb + 16)
            let a = pa + p * 4
            let a0 = V16(repeating: a[0]), a1 = V16(repeating: a[1])
            let a2 = V16(repeating: a[2]), a3 = V16(repeating: a[3])
            c00.addProduct(a0, b0); c01.addProduct(a0, b1)
            c10.addProduct(a1, b0); c11.addProduct(a1, b1)
            c20.addProduct(a2, b0); c21.addProduct(a2, b1)
            c30.addProduct(a3, b0); c31.addProduct(a3, b1)
        }
        addRow(c, c00, c01)
        if rows > 1 { addRow(c + ldc, c10, c11) }
        if rows > 2 { addRow(c + 2 * ldc, c20, c21) }
        if rows > 3 { addRow(c + 3 * ldc, c30, c31) }
    }

    @inline(__always)
    private static func kernel4x16(_ pa: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ ldb: Int, _ kc: Int,
                                   _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ rows: Int) {
        var c0 = V16(), c1 = V16(), c2 = V16(), c3 = V16()
        for p in 0..<kc {
            let b0 = load16(b + p * ldb)
            let a = pa + p * 4
            c0.addProduct(V16(repeating: a[0]), b0)
            c1.addProduct(V16(repeating: a[1]), b0)
            c2.addProduct(V16(repeating: a[2]), b0)
            c3.addProduct(V16(repeating: a[3]), b0)
        }
        store16(load16(c) + c0, c)
        if rows > 1 { store16(load16(c + ldc) + c1, c + ldc) }
        if rows > 2 { store16(load16(c + 2 * ldc) + c2, c + 2 * ldc) }
        if rows > 3 { store16(load16(c + 3 * ldc) + c3, c + 3 * ldc) }
    }

    @inline(__always)
    private static func addRow(_ row: UnsafeMutablePointer<Float>, _ low: V16, _ high: V16) {
        store16(load16(row) + low, row)
        store16(load16(row + 16) + high, row + 16)
    }
}
