import CTridentQ8

// 16-lane decode loops of the 32-element block types q5_0, q5_1 and iq4_nl (layouts in
// `Blocks32`), one block per `add`: the 16 nibble bytes are widened once (low nibbles are
// elements 0..<16, high nibbles 16..<32), and successive blocks alternate between two
// accumulators so their FMA chains overlap. Offsets (−16·d, m) use the block sums of x.

/// The 32 five-bit values of a q5 block, elements 0..<16 and 16..<32: nibbles of `qs` plus
/// bit j (element j) of `qh` as bit 4 (a masked OR whose mask is `qh`'s half itself).
@inline(__always)
func q5Values16(_ qh: UInt32, _ qs: UnsafePointer<UInt8>) -> (low: V16, high: V16) {
    let raw = widenOpaque16(qs)
    let low = trident_or_where16(raw & 15, UInt16(truncatingIfNeeded: qh), 16)
    let high = trident_or_where16(raw &>> 4, UInt16(truncatingIfNeeded: qh >> 16), 16)
    return (uintsToFloat16(low), uintsToFloat16(high))
}

/// q5_0: value = d·(q − 16); Σ = Σ_b d_b·Σq·x − 16·Σ_b d_b·Σx_b.
struct Q50RowDot: WideRowDot {
    static var elements: Int { 32 }
    static var bytes: Int { 22 }
    static var sums: WideSums { .per32 }
    var acc0 = V16(), acc1 = V16()
    var offset: Float = 0  // Σ d_b·Σx_b

    @inline(__always)
    mutating func add(_ block: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>) {
        let d = loadHalf(block, 0)
        let (low, high) = q5Values16(block.loadUnaligned(fromByteOffset: 2, as: UInt32.self),
                                     (block + 6).assumingMemoryBound(to: UInt8.self))
        acc0 = fma16(fma16(high, load16(x + 16), low * load16(x)), V16(repeating: d), acc0)
        swap(&acc0, &acc1)
        offset += d * sums[0]
    }

    @inline(__always) var total: Float { horizontalSum(acc0 + acc1) - 16 * offset }
}

/// q5_1: value = d·q + m; Σ = Σ_b d_b·Σq·x + Σ_b m_b·Σx_b.
struct Q51RowDot: WideRowDot {
    static var elements: Int { 32 }
    static var bytes: Int { 24 }
    static var sums: WideSums { .per32 }
    var acc0 = V16(), acc1 = V16()
    var offset: Float = 0  // Σ m_b·Σx_b

    @inline(__always)
    mutating func add(_ block: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>) {
        let (low, high) = q5Values16(block.loadUnaligned(fromByteOffset: 4, as: UInt32.self),
                                     (block + 8).assumingMemoryBound(to: UInt8.self))
        acc0 = fma16(fma16(high, load16(x + 16), low * load16(x)), V16(repeating: loadHalf(block, 0)), acc0)
        swap(&acc0, &acc1)
        offset += loadHalf(block, 2) * sums[0]
    }

    @inline(__always) var total: Float { horizontalSum(acc0 + acc1) + offset }
}

/// iq4_nl: value = d·iq4[q].
struct IQ4NLRowDot: WideRowDot {
    static var elements: Int { 32 }
    static var bytes: Int { 18 }
    static var sums: WideSums { .none }
    var acc0 = V16(), acc1 = V16()

    @inline(__always)
    mutating func add(_ block: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>) {
        let table = iq4Table
        let raw = widenOpaque16((block + 2).assumingMemoryBound(to: UInt8.self))
        let s = fma16(lookup16(table, raw &>> 4), load16(x + 16), lookup16(table, raw) * load16(x))
        acc0 = fma16(s, V16(repeating: loadHalf(block, 0)), acc0)
        swap(&acc0, &acc1)
    }

    @inline(__always) var total: Float { horizontalSum(acc0 + acc1) }
}
