// Small always-inlined SIMD building blocks. They spell out lane loops instead of using
// the standard library's SIMD conversion initialisers, which compile to per-lane or
// out-of-line code (see ANCHORS.md); LLVM turns these loops into single vector instructions.

typealias F8 = SIMD8<Float>

/// Loads 8 floats from `p` (no alignment needed).
@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> F8 {
    UnsafeRawPointer(p).loadUnaligned(as: F8.self)
}

/// Stores 8 floats at `p` (no alignment needed).
@inline(__always)
func store8(_ v: F8, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: F8.self)
}

/// `acc + a * b` as one fused multiply-add per lane.
@inline(__always)
func fma8(_ a: F8, _ b: F8, _ acc: F8) -> F8 {
    acc.addingProduct(a, b)
}

/// Sum of the 8 lanes.
@inline(__always)
func hsum8(_ v: F8) -> Float {
    let four = v.lowHalf + v.highHalf
    let two = four.lowHalf + four.highHalf
    return two[0] + two[1]
}

/// 8 signed bytes -> 8 floats.
@inline(__always)
func widenInt8(_ p: UnsafePointer<Int8>) -> F8 {
    F8(Float(p[0]), Float(p[1]), Float(p[2]), Float(p[3]),
       Float(p[4]), Float(p[5]), Float(p[6]), Float(p[7]))
}

/// 8 unsigned bytes, zero-extended to 32-bit lanes (one `vpmovzxbd`).
@inline(__always)
func widenBytes(_ p: UnsafePointer<UInt8>) -> SIMD8<UInt32> {
    SIMD8<UInt32>(UInt32(p[0]), UInt32(p[1]), UInt32(p[2]), UInt32(p[3]),
                  UInt32(p[4]), UInt32(p[5]), UInt32(p[6]), UInt32(p[7]))
}

/// Low nibbles of 8 bytes (already widened) -> 8 floats in 0...15.
@inline(__always)
func lowNibbles(_ raw: SIMD8<UInt32>) -> F8 { intsToFloat(raw & 0x0F) }

/// High nibbles of 8 bytes (already widened) -> 8 floats in 0...15.
@inline(__always)
func highNibbles(_ raw: SIMD8<UInt32>) -> F8 { intsToFloat(raw &>> 4) }

/// Lanes 0 ..< 2^31 -> floats (one `vcvtdq2ps`).
@inline(__always)
func intsToFloat(_ v: SIMD8<UInt32>) -> F8 {
    let i = unsafeBitCast(v, to: SIMD8<Int32>.self)
    return F8(Float(i[0]), Float(i[1]), Float(i[2]), Float(i[3]),
              Float(i[4]), Float(i[5]), Float(i[6]), Float(i[7]))
}

/// 8 binary16 values -> 8 floats.
@inline(__always)
func widenF16(_ p: UnsafePointer<UInt16>) -> F8 {
    @inline(__always) func h(_ i: Int) -> Float { Float(Float16(bitPattern: p[i])) }
    return F8(h(0), h(1), h(2), h(3), h(4), h(5), h(6), h(7))
}

/// 8 bfloat16 values -> 8 floats.
@inline(__always)
func widenBF16(_ p: UnsafePointer<UInt16>) -> F8 {
    @inline(__always) func b(_ i: Int) -> Float { Float(bitPattern: UInt32(p[i]) << 16) }
    return F8(b(0), b(1), b(2), b(3), b(4), b(5), b(6), b(7))
}
