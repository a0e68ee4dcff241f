import CTridentQ8

// The 16-lane, two-rows-per-pass decode loops of the types beyond q4_0 / q4_1 / q8_0
// (`MatvecKernel.wide`). Each type describes one row's running sums over one block in a
// `WideRowDot`; `RowDot.wideRows` walks two rows together, block by block, so both read each
// x block while it is in L1 (where LLVM unrolls a block's inner loop, as for q4_K, it also
// merges the two rows' loads of the same x vector), then an odd leftover row alone. Activations stay float32: results equal the 8-lane loops up to float32 summation
// order. The types' `add`s live in `RowDotWideKQuants.swift`, `RowDotWideLowBits.swift`
// and `RowDotWideBlocks32.swift`.

/// Which sums of x a type's loop reads besides x itself (for its minimum or bias terms).
enum WideSums {
    case none
    /// Σx per 32 elements: the block sums `matvec` passes (q4_K, q5_K, q5_0, q5_1).
    case per32
    /// Σx per 16 elements, computed by `RowDot.wideBlockRows` (q2_K, q3_K, q6_K).
    case per16
}

/// One row's running dot product with x in the 16-lane loops, one block at a time.
protocol WideRowDot {
    /// Elements and stored bytes of one block.
    static var elements: Int { get }
    static var bytes: Int { get }
    /// The sums of x `add` reads.
    static var sums: WideSums { get }
    init()
    /// Adds block · x: `block` one stored block, `x` its `elements` floats, `sums` the block's
    /// `elements / 32` (per32) or `elements / 16` (per16) sums of x.
    mutating func add(_ block: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>)
    /// The row's dot product over the blocks added so far.
    var total: Float { get }
}

extension RowDot {
    /// Rows `range` of w · x with the 16-lane loop of `w.dtype`; false (nothing written) for a
    /// type without one here. `x` `[w.columns]`, `sums` `[w.columns / 32]` block sums of x.
    static func wideBlockRows(_ w: WeightMatrix, _ range: Range<Int>, _ x: UnsafePointer<Float>,
                              _ sums: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) -> Bool {
        switch w.dtype {
        case .q4_K: wideRows(Q4KRowDot.self, w, range, x, sums, out)
        case .q5_K: wideRows(Q5KRowDot.self, w, range, x, sums, out)
        case .q6_K: withSums16(x, w.columns) { wideRows(Q6KRowDot.self, w, range, x, $0, out) }
        case .q2_K: withSums16(x, w.columns) { wideRows(Q2KRowDot.self, w, range, x, $0, out) }
        case .q3_K: withSums16(x, w.columns) { wideRows(Q3KRowDot.self, w, range, x, $0, out) }
        case .iq4_xs: wideRows(IQ4XSRowDot.self, w, range, x, sums, out)
        case .iq4_nl: wideRows(IQ4NLRowDot.self, w, range, x, sums, out)
        case .q5_0: wideRows(Q50RowDot.self, w, range, x, sums, out)
        case .q5_1: wideRows(Q51RowDot.self, w, range, x, sums, out)
        default: return false
        }
        return true
    }

    /// Rows `range` of w · x with `A`'s loop: two rows per pass, then an odd leftover row.
    @inline(__always)
    static func wideRows<A: WideRowDot>(_: A.Type, _ w: WeightMatrix, _ range: Range<Int>, _ x: UnsafePointer<Float>,
                                        _ sums: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        let blocks = w.columns / A.elements
        let sumsPerBlock = A.sums == .per16 ? A.elements / 16 : A.elements / 32
        let bytes = A.bytes
        var r = range.lowerBound
        while r + 2 <= range.upperBound {
            let row0 = w.rowPointer(r), row1 = row0 + w.rowStride
            var dot0 = A(), dot1 = A()
            for b in 0..<blocks {
                // The pair's rows are one stream (when contiguous): ask for it 4 KiB ahead.
                var line = 0
                while line < 2 * bytes {
                    trident_prefetch(row0 + 2 * b * bytes + rowGroupPrefetchBytes + line)
                    line += 64
                }
                let xb = x + b * A.elements, sb = sums + b * sumsPerBlock
                dot0.add(row0 + b * bytes, xb, sb)
                dot1.add(row1 + b * bytes, xb, sb)
            }
            out[r] = dot0.total
            out[r + 1] = dot1.total
            r += 2
        }
        if r < range.upperBound {
            let row = w.rowPointer(r)
            var dot = A()
            for b in 0..<blocks { dot.add(row + b * bytes, x + b * A.elements, sums + b * sumsPerBlock) }
            out[r] = dot.total
        }
    }

    /// Calls `body` with Σx per 16 elements (`[columns / 16]`, on the stack when small).
    @inline(__always)
    static func withSums16(_ x: UnsafePointer<Float>, _ columns: Int, _ body: (UnsafePointer<Float>) -> Void) {
        let groups = columns / 16
        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(groups, 1)) { buffer in
            let sums = buffer.baseAddress!
            for g in 0..<groups { sums[g] = horizontalSum(load16(x + 16 * g)) }
            body(UnsafePointer(sums))
        }
    }
}

/// result[i] = table[index[i] & 15]: one `vpermps` with AVX-512 (`CTridentLookup.h`).
@inline(__always)
func lookup16(_ table: V16, _ index: SIMD16<UInt32>) -> V16 {
    trident_lookup16(table, index)
}

/// 16 bytes zero-extended to 32-bit lanes (one `vpmovzxbd`), opaque to LLVM
/// (`trident_widen_bytes16`): from a plain widening LLVM moves later shifts and masks before
/// it (byte shifts plus a second widening, on the shuffle port the lookups also need).
@inline(__always)
func widenOpaque16(_ p: UnsafePointer<UInt8>) -> SIMD16<UInt32> {
    trident_widen_bytes16(p)
}

/// Lane `i` of `v` in all 16 lanes (the scale of one sub-block).
@inline(__always)
func splat16(_ v: V16, _ i: Int) -> V16 { V16(repeating: v[i]) }

/// Lane `i` of `v` in all 16 lanes.
@inline(__always)
func splat16(_ v: F8, _ i: Int) -> V16 { V16(repeating: v[i]) }
