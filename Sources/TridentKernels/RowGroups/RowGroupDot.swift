import CTridentQ8

// Products of one row group (16 rows, one per float lane; `RowGroups`) with one or four
// float32 activation vectors. Per tile (block column b, 32 columns) the weights of column
// pair (p, p + 16) of all 16 rows are expanded once into two vectors and multiplied with
// x[p] and x[p + 16] broadcast from memory; the tile's sum is scaled by the 16 rows' `d`
// (loaded with one conversion) and, for Q4_1, offset by `m · Σx_block`. Activations stay
// float32, so results equal `matmulReference` up to float32 summation order.

/// One block type's tile in the row-group layout.
protocol RowGroupTile {
    /// Tile bytes: 16 × the GGUF block.
    static var tileBytes: Int { get }
    /// Column `p` and column `p + 16` of the tile's 16 rows as floats (quantized values,
    /// before `d`), p in 0..<16.
    static func pair(_ tile: UnsafeRawPointer, _ p: Int) -> (V16, V16)
    /// Whether the tile carries `m` (added as `m · Σx_block`).
    static var hasMinimum: Bool { get }
}

/// 0...15 as floats (Q4_1's nibble values). A computed constant, not a global `let`: a
/// global would cost a `swift_once` check in the inner loop.
var nibbleValues: V16 {
    @inline(__always) get { V16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) }
}
/// −8...7 as floats (Q4_0's nibble values minus its offset).
var centredNibbleValues: V16 {
    @inline(__always) get { V16(-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7) }
}

enum Q41Tile: RowGroupTile {
    static let tileBytes = 320
    static let hasMinimum = true
    @inline(__always)
    static func pair(_ tile: UnsafeRawPointer, _ p: Int) -> (V16, V16) {
        let raw = trident_widen_bytes16((tile + 64 + 16 * p).assumingMemoryBound(to: UInt8.self))
        return (trident_lookup16(nibbleValues, raw), trident_lookup16(nibbleValues, raw &>> 4))
    }
}

enum Q40Tile: RowGroupTile {
    static let tileBytes = 288
    static let hasMinimum = false
    @inline(__always)
    static func pair(_ tile: UnsafeRawPointer, _ p: Int) -> (V16, V16) {
        let raw = trident_widen_bytes16((tile + 32 + 16 * p).assumingMemoryBound(to: UInt8.self))
        return (trident_lookup16(centredNibbleValues, raw), trident_lookup16(centredNibbleValues, raw &>> 4))
    }
}

enum Q80Tile: RowGroupTile {
    static let tileBytes = 544
    static let hasMinimum = false
    @inline(__always)
    static func pair(_ tile: UnsafeRawPointer, _ p: Int) -> (V16, V16) {
        let q = (tile + 32).assumingMemoryBound(to: Int8.self)
        return (trident_int8_to_floats16(q + 16 * p), trident_int8_to_floats16(q + 16 * (p + 16)))
    }
}

/// Bytes ahead of the tile being read that the decode loops ask for: measured on a 2-core
/// Xeon (AVX-512) streaming a 335 MB Q4_1 matrix, 4 KiB lifts one thread from 7.6 to 11-12 GB/s
/// and two from 13.7 to 24 GB/s (a plain C read loop reaches 11.8 and 23.4 there); 2 and
/// 8 KiB are slower at two threads.
let rowGroupPrefetchBytes = 4096

enum RowGroupDot {
    /// The 16 rows of one group · `x`: lane `l` = row `l`.
    /// - Parameters: `group` the group's first tile, `blocks` tiles, `x` `[blocks * 32]`,
    ///   `sums` `[blocks]` block sums of `x` (read only when the tile has `m`).
    @inline(__always)
    static func one<T: RowGroupTile>(_: T.Type, _ group: UnsafeRawPointer, _ blocks: Int,
                                     _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>) -> V16 {
        var acc = V16()
        for b in 0..<blocks {
            let tile = group + b * T.tileBytes, xb = x + 32 * b
            var line = 0
            while line < T.tileBytes {
                trident_prefetch(tile + rowGroupPrefetchBytes + line)
                line += 64
            }
            var s0 = V16(), s1 = V16(), s2 = V16(), s3 = V16()
            var p = 0
            while p < 16 {
                let (a0, a1) = T.pair(tile, p), (b0, b1) = T.pair(tile, p + 1)
                s0 = trident_fma_splat16(s0, a0, xb + p)
                s1 = trident_fma_splat16(s1, a1, xb + p + 16)
                s2 = trident_fma_splat16(s2, b0, xb + p + 1)
                s3 = trident_fma_splat16(s3, b1, xb + p + 17)
                p += 2
            }
            let d = trident_halves16(tile.assumingMemoryBound(to: UInt16.self))
            acc = acc.addingProduct((s0 + s1) + (s2 + s3), d)
            if T.hasMinimum {
                let m = trident_halves16((tile + 32).assumingMemoryBound(to: UInt16.self))
                acc = trident_fma_splat16(acc, m, sums + b)
            }
        }
        return acc
    }

    /// The 16 rows of one group · four activation vectors (`x0`...`x3`, with block sums
    /// `sums + t * blocks`): the weights are expanded once for all four.
    @inline(__always)
    static func four<T: RowGroupTile>(_: T.Type, _ group: UnsafeRawPointer, _ blocks: Int,
                                      _ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>,
                                      _ x2: UnsafePointer<Float>, _ x3: UnsafePointer<Float>,
                                      _ sums: UnsafePointer<Float>) -> (V16, V16, V16, V16) {
        var acc0 = V16(), acc1 = V16(), acc2 = V16(), acc3 = V16()
        for b in 0..<blocks {
            let tile = group + b * T.tileBytes, o = 32 * b
            var line = 0
            while line < T.tileBytes {
                trident_prefetch(tile + rowGroupPrefetchBytes + line)
                line += 64
            }
            // Low (column p) and high (column p + 16) halves in separate chains per token.
            var l0 = V16(), l1 = V16(), l2 = V16(), l3 = V16()
            var h0 = V16(), h1 = V16(), h2 = V16(), h3 = V16()
            for p in 0..<16 {
                let (lo, hi) = T.pair(tile, p)
                l0 = trident_fma_splat16(l0, lo, x0 + o + p)
                h0 = trident_fma_splat16(h0, hi, x0 + o + p + 16)
                l1 = trident_fma_splat16(l1, lo, x1 + o + p)
                h1 = trident_fma_splat16(h1, hi, x1 + o + p + 16)
                l2 = trident_fma_splat16(l2, lo, x2 + o + p)
                h2 = trident_fma_splat16(h2, hi, x2 + o + p + 16)
                l3 = trident_fma_splat16(l3, lo, x3 + o + p)
                h3 = trident_fma_splat16(h3, hi, x3 + o + p + 16)
            }
            let s0 = l0 + h0, s1 = l1 + h1, s2 = l2 + h2, s3 = l3 + h3
            let d = trident_halves16(tile.assumingMemoryBound(to: UInt16.self))
            acc0 = acc0.addingProduct(s0, d)
            acc1 = acc1.addingProduct(s1, d)
            acc2 = acc2.addingProduct(s2, d)
            acc3 = acc3.addingProduct(s3, d)
            if T.hasMinimum {
                let m = trident_halves16((tile + 32).assumingMemoryBound(to: UInt16.self))
                acc0 = trident_fma_splat16(acc0, m, sums + b)
                acc1 = trident_fma_splat16(acc1, m, sums + blocks + b)
                acc2 = trident_fma_splat16(acc2, m, sums + 2 * blocks + b)
                acc3 = trident_fma_splat16(acc3, m, sums + 3 * blocks + b)
            }
        }
        return (acc0, acc1, acc2, acc3)
    }
}
