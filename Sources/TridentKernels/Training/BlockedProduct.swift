
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
/// of `A` is packed into 8-row panels (contiguous broadcasts whatever A's strides), then an
/// 8-row × 32-column register micro-kernel (16 accumulators of 16 lanes, 2 loads + 8
/// broadcasts per 16 FMAs: enough independent FMAs to fill two AVX-512 FMA pipes) streams
/// the matching rows of `B`.
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
                while group * 8 < rows.count {
                    let firstRow = rows.lowerBound + group * 8
                    let live = min(8, rows.upperBound - firstRow)
                    panel(packed + group * 8 * kc, b: b + depth * ldb, ldb: ldb, kc: kc,
                          c: c + firstRow * ldc, ldc: ldc, rows: live, columns: columns)
                    group += 1
                }
                depth += kc
            }
        }
    }

    /// Packs `A[rows, depth ..< depth + kc]` as 8-row groups `[group][p][8]`, zero-padded.
    @inline(__always)
    private static func pack(_ a: StridedMatrix, rows: Range<Int>, depth: Int, kc: Int,
                             into packed: UnsafeMutablePointer<Float>) {
        let groups = (rows.count + 7) / 8
        for g in 0..<groups {
            let out = packed + g * 8 * kc
            for r in 0..<8 {
                let i = rows.lowerBound + g * 8 + r
                if i < rows.upperBound {
                    for p in 0..<kc { out[p * 8 + r] = a[i, depth + p] }
                } else {
                    for p in 0..<kc { out[p * 8 + r] = 0 }
                }
            }
        }
    }

    /// One 8-row panel against `columns` of B: 32-wide, then 16-wide, then scalar tails.
    @inline(__always)
    private static func panel(_ pa: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int, kc: Int,
                              c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, columns: Range<Int>) {
        var j = columns.lowerBound
        while j + 32 <= columns.upperBound {
            kernel8x32(pa, b + j, ldb, kc, c + j, ldc, rows)
            j += 32
        }
        while j + 16 <= columns.upperBound {
            kernel8x16(pa, b + j, ldb, kc, c + j, ldc, rows)
            j += 16
        }
        while j < columns.upperBound {
            for r in 0..<rows {
                var sum: Float = 0
                for p in 0..<kc { sum += pa[p * 8 + r] * b[p * ldb + j] }
                c[r * ldc + j] += sum
            }
            j += 1
        }
    }

    /// Register tile of 8 rows × 32 columns (two 16-lane halves per row).
    private struct Tile8x32 {
        var low = (V16(), V16(), V16(), V16(), V16(), V16(), V16(), V16())
        var high = (V16(), V16(), V16(), V16(), V16(), V16(), V16(), V16())
    }

    @inline(__always)
    private static func kernel8x32(_ pa: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ ldb: Int, _ kc: Int,
                                   _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ rows: Int) {
        var t = Tile8x32()
        for p in 0..<kc {
            let b0 = load16(b + p * ldb), b1 = load16(b + p * ldb + 16)
            let a = pa + p * 8
            var s = V16(repeating: a[0]); t.low.0.addProduct(s, b0); t.high.0.addProduct(s, b1)
            s = V16(repeating: a[1]); t.low.1.addProduct(s, b0); t.high.1.addProduct(s, b1)
            s = V16(repeating: a[2]); t.low.2.addProduct(s, b0); t.high.2.addProduct(s, b1)
            s = V16(repeating: a[3]); t.low.3.addProduct(s, b0); t.high.3.addProduct(s, b1)
            s = V16(repeating: a[4]); t.low.4.addProduct(s, b0); t.high.4.addProduct(s, b1)
            s = V16(repeating: a[5]); t.low.5.addProduct(s, b0); t.high.5.addProduct(s, b1)
            s = V16(repeating: a[6]); t.low.6.addProduct(s, b0); t.high.6.addProduct(s, b1)
            s = V16(repeating: a[7]); t.low.7.addProduct(s, b0); t.high.7.addProduct(s, b1)
        }
        addRow(c, t.low.0, t.high.0)
        if rows > 1 { addRow(c + ldc, t.low.1, t.high.1) }
        if rows > 2 { addRow(c + 2 * ldc, t.low.2, t.high.2) }
        if rows > 3 { addRow(c + 3 * ldc, t.low.3, t.high.3) }
        if rows > 4 { addRow(c + 4 * ldc, t.low.4, t.high.4) }
        if rows > 5 { addRow(c + 5 * ldc, t.low.5, t.high.5) }
        if rows > 6 { addRow(c + 6 * ldc, t.low.6, t.high.6) }
        if rows > 7 { addRow(c + 7 * ldc, t.low.7, t.high.7) }
    }

    @inline(__always)
    private static func kernel8x16(_ pa: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ ldb: Int, _ kc: Int,
                                   _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ rows: Int) {
        var t = (V16(), V16(), V16(), V16(), V16(), V16(), V16(), V16())
        for p in 0..<kc {
            let b0 = load16(b + p * ldb)
            let a = pa + p * 8
            t.0.addProduct(V16(repeating: a[0]), b0); t.1.addProduct(V16(repeating: a[1]), b0)
            t.2.addProduct(V16(repeating: a[2]), b0); t.3.addProduct(V16(repeating: a[3]), b0)
            t.4.addProduct(V16(repeating: a[4]), b0); t.5.addProduct(V16(repeating: a[5]), b0)
            t.6.addProduct(V16(repeating: a[6]), b0); t.7.addProduct(V16(repeating: a[7]), b0)
        }
        addRow(c, t.0)
        if rows > 1 { addRow(c + ldc, t.1) }
        if rows > 2 { addRow(c + 2 * ldc, t.2) }
        if rows > 3 { addRow(c + 3 * ldc, t.3) }
        if rows > 4 { addRow(c + 4 * ldc, t.4) }
        if rows > 5 { addRow(c + 5 * ldc, t.5) }
        if rows > 6 { addRow(c + 6 * ldc, t.6) }
        if rows > 7 { addRow(c + 7 * ldc, t.7) }
    }

    @inline(__always)
    private static func addRow(_ row: UnsafeMutablePointer<Float>, _ low: V16, _ high: V16) {
        store16(load16(row) + low, row)
        store16(load16(row + 16) + high, row + 16)
    }

    @inline(__always)
    private static func addRow(_ row: UnsafeMutablePointer<Float>, _ values: V16) {
        store16(load16(row) + values, row)
    }
}
