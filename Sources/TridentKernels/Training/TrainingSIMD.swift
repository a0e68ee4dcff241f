// Small always-inlined 16-lane SIMD building blocks for the training kernels (SIMDHelpers.swift
// holds the 8-lane ones of the inference kernels). Lane loops are left to LLVM, which maps them to vector registers
// when the package is built with `-target-cpu`.

import Foundation

typealias V16 = SIMD16<Float>

/// Loads 16 floats from `p` (no alignment needed).
@inline(__always)
func load16(_ p: UnsafePointer<Float>) -> V16 {
    UnsafeRawPointer(p).loadUnaligned(as: V16.self)
}

/// Stores 16 floats at `p` (no alignment needed).
@inline(__always)
func store16(_ v: V16, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V16.self)
}

/// Σ a[i]·b[i] over `count` floats, 16 lanes at a time.
@inline(__always)
func dotProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
    var acc0 = V16(), acc1 = V16()
    var i = 0
    while i + 32 <= count {
        acc0.addProduct(load16(a + i), load16(b + i))
        acc1.addProduct(load16(a + i + 16), load16(b + i + 16))
        i += 32
    }
    while i + 16 <= count {
        acc0.addProduct(load16(a + i), load16(b + i))
        i += 16
    }
    var sum = horizontalSum(acc0 + acc1)
    while i < count {
        sum += a[i] * b[i]
        i += 1
    }
    return sum
}

/// `y[i] += alpha * x[i]` over `count` floats.
@inline(__always)
func addScaled(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
    let a = V16(repeating: alpha)
    var i = 0
    while i + 16 <= count {
        store16(load16(y + i).addingProduct(a, load16(x + i)), y + i)
        i += 16
    }
    while i < count {
        y[i] += alpha * x[i]
        i += 1
    }
}

/// `y[i] += x[i]` over `count` floats.
@inline(__always)
func addInPlace(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
    var i = 0
    while i + 16 <= count {
        store16(load16(y + i) + load16(x + i), y + i)
        i += 16
    }
    while i < count {
        y[i] += x[i]
        i += 1
    }
}

/// Sum of the 16 lanes by halving (the standard library's `sum()` compiles to per-lane code).
@inline(__always)
func horizontalSum(_ v: V16) -> Float {
    let eight = v.lowHalf + v.highHalf
    let four = eight.lowHalf + eight.highHalf
    let two = four.lowHalf + four.highHalf
    return two[0] + two[1]
}

/// `e^x` for 16 lanes, within 2 ulp of `expf` for x in [-87, 88] (inputs are clamped there;
/// so `exp(-inf)` gives about 1.6e-38, not 0). Cody–Waite reduction `x = n·ln2 + r`,
/// degree-6 polynomial for `e^r`, and `2^n` built in the exponent bits; rounding to `n`
/// uses the 1.5·2²³ trick, so no SIMD conversion initialisers are involved.
@inline(__always)
func exp16(_ x: V16) -> V16 {
    let clamped = clamp16(x, -87, 88)
    let magic = V16(repeating: 12_582_912)                       // 1.5 · 2²³
    let shifted = clamped * V16(repeating: 1.442_695_04) + magic  // n + magic, rounded to nearest
    let n = shifted - magic
    var r = clamped - n * V16(repeating: 0.693_145_75)            // ln 2, high part
    r = r - n * V16(repeating: 1.428_606_8e-6)                    // ln 2, low part
    var p = V16(repeating: 1.987_569_15e-4)
    p = p * r + V16(repeating: 1.398_199_95e-3)
    p = p * r + V16(repeating: 8.333_451_9e-3)
    p = p * r + V16(repeating: 4.166_579_6e-2)
    p = p * r + V16(repeating: 1.666_666_55e-1)
    p = p * r + V16(repeating: 5.000_000_1e-1)
    p = (p * r) * r + r + V16(repeating: 1)
    let integer = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- unsafeBitCast(magic, to: SIMD16<Int32>.self)
    let scale = unsafeBitCast((integer &+ 127) &<< 23, to: V16.self)
    return p * scale
}

/// Σ_j exp(x[j] − shift) over `count` floats (`exp16` per 16 lanes, `expf` on the tail).
@inline(__always)
func sumOfExponentials(_ x: UnsafePointer<Float>, _ count: Int, shift: Float) -> Float {
    let s = V16(repeating: shift)
    var acc = V16()
    var j = 0
    while j + 16 <= count {
        acc += exp16(load16(x + j) - s)
        j += 16
    }
    var sum = horizontalSum(acc)
    while j < count {
        sum += expf(x[j] - shift)
        j += 1
    }
    return sum
}

/// `out[j] = exp(x[j] − shift) · scale` over `count` floats; `out` may equal `x`.
@inline(__always)
func writeScaledExponentials(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ count: Int,
                             shift: Float, scale: Float) {
    let s = V16(repeating: shift), f = V16(repeating: scale)
    var j = 0
    while j + 16 <= count {
        store16(exp16(load16(x + j) - s) * f, out + j)
        j += 16
    }
    while j < count {
        out[j] = expf(x[j] - shift) * scale
        j += 1
    }
}

/// Largest of `count` floats (`-inf` when empty).
@inline(__always)
func maximumValue(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
    var acc = V16(repeating: -.infinity)
    var j = 0
    while j + 16 <= count {
        acc = max16(acc, load16(x + j))
        j += 16
    }
    var best = acc[0]
    for i in 1..<16 { best = max(best, acc[i]) }
    while j < count {
        best = max(best, x[j])
        j += 1
    }
    return best
}

/// Lane-wise `min(max(x, low), high)` as a fixed 16-lane loop (vectorises to two instructions;
/// the standard library's `clamped` compiles to per-lane code with NaN branches).
@inline(__always)
func clamp16(_ x: V16, _ low: Float, _ high: Float) -> V16 {
    var r = x
    for i in 0..<16 {
        let v = r[i] < low ? low : r[i]
        r[i] = v > high ? high : v
    }
    return r
}

/// Lane-wise maximum as a fixed 16-lane loop.
@inline(__always)
func max16(_ a: V16, _ b: V16) -> V16 {
    var r = a
    for i in 0..<16 { r[i] = b[i] > r[i] ? b[i] : r[i] }
    return r
}
