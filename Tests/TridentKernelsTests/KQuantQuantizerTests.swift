import Foundation
import Testing
import TridentTestSupport
@testable import TridentKernels

/// The Q4_K / Q5_K / Q6_K quantizers: error bounds on random and smooth data, against an
/// independent plain range quantizer, exact round trips of exactly representable blocks, and
/// the packing of scale codes read back through the existing decoders.
@Suite struct KQuantQuantizerTests {
    static let kTypes: [DType] = [.q4_K, .q5_K, .q6_K]

    /// Quantize with Trident, decode with the existing dequantizer.
    static func roundTrip(_ values: [Float], rows: Int, columns: Int, _ dtype: DType) -> [Float] {
        let bytes = Quantizer.quantize(values, rows: rows, columns: columns, to: dtype)
        var out = [Float](repeating: .nan, count: values.count)
        bytes.withUnsafeBytes { src in
            out.withUnsafeMutableBufferPointer {
                Dequantizer.dequantize(src.baseAddress!, count: values.count, dtype: dtype, into: $0.baseAddress!)
            }
        }
        return out
    }

    static func rms(_ a: [Float], _ b: [Float]) -> Double {
        (zip(a, b).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) } / Double(a.count)).squareRoot()
    }

    /// Roughly normal values (sum of 4 uniforms, σ ≈ 1.15) with a few 4σ outliers, like weights.
    static func weightLike(_ count: Int, seed: UInt64) -> [Float] {
        let u = randomFloats(4 * count, in: -1...1, seed: seed)
        return (0..<count).map { i in
            let x = u[4 * i] + u[4 * i + 1] + u[4 * i + 2] + u[4 * i + 3]
            return i % 97 == 13 ? 4.5 * x.magnitude.squareRoot() * (x < 0 ? -1 : 1) + x : x
        }
    }

    /// llama.cpp's `test-quantize-fns` check: data `0.1 + 2 cos(i + offset)`, n = 4096,
    /// `sqrt(Σ(x̂ − x)²) / n < 0.002` for every 4-bit-and-up type.
    @Test(arguments: kTypes + [.q8_0, .q4_0, .q4_1, .q5_0, .q5_1])
    func llamaCppTotalErrorBound(dtype: DType) {
        for offset in [0.0, 1.0] {
            let x = (0..<4096).map { Float(0.1 + 2 * cos(Double($0) + offset)) }
            let back = Self.roundTrip(x, rows: 16, columns: 256, dtype)
            let total = Self.rms(x, back) * Double(x.count).squareRoot() / Double(x.count)
            #expect(total < 0.002, "\(dtype) offset \(offset): \(total)")
        }
    }

    /// A plain range quantizer with exact float scales, the baseline a searched fit must beat.
    /// Asymmetric (`levels > 0`): per group of `group` values, `levels` steps from
    /// min(min, 0) to max. Symmetric (`levels < 0`): steps of `extreme / levels` so the value of
    /// largest magnitude lands on level `levels` (e.g. -32) and others round into -32...31.
    static func plainRangeError(_ x: [Float], group: Int, levels: Float) -> Double {
        var out = x
        for start in stride(from: 0, to: x.count, by: group) {
            let g = x[start..<(start + group)]
            if levels < 0 {
                let extreme = g.max { abs($0) < abs($1) }!
                let step = extreme / levels
                for i in start..<(start + group) where step != 0 {
                    out[i] = step * min(max((x[i] / step).rounded(), levels), -levels - 1)
                }
                continue
            }
            let lo = min(g.min()!, 0), hi = g.max()!
            let step = (hi - lo) / levels
            for i in start..<(start + group) where step > 0 {
                out[i] = lo + step * ((x[i] - lo) / step).rounded()
            }
        }
        return rms(x, out)
    }

    /// On weight-like data the searched sub-block fits (with 6-/8-bit coded scales and f16
    /// super-scales) beat the plain range quantizer of the same sub-blocks and levels
    /// (Q4_K: 15 steps per 32 from the minimum, Q5_K: 31 per 32, Q6_K: symmetric, -32...31
    /// per 16), and stay below the uniform-noise estimate step/√12 of a range of ±3.2σ
    /// (0.12σ, 0.06σ, 0.03σ).
    @Test(arguments: zip(kTypes, [(32, Float(15), 0.12), (32, 31, 0.06), (16, -32, 0.03)]))
    func searchedFitsBeatThePlainRangeFit(dtype: DType, reference: (group: Int, levels: Float, bound: Double)) {
        let x = Self.weightLike(256 * 64, seed: 7)
        let sigma = (x.reduce(0.0) { $0 + Double($1 * $1) } / Double(x.count)).squareRoot()
        let ours = Self.rms(x, Self.roundTrip(x, rows: 16, columns: 1024, dtype))
        let plain = Self.plainRangeError(x, group: reference.group, levels: reference.levels)
        #expect(ours < plain, "\(dtype): searched \(ours) vs plain range fit \(plain)")
        #expect(ours / sigma < reference.bound, "\(dtype): relative RMS \(ours / sigma)")
    }

    /// Blocks that are exactly `d·sc·q − dmin·m` with representable 6-bit codes come back
    /// exactly, with those codes in the scale bytes (checks fit, coding and packing, including
    /// the split high bits of sub-blocks 4-7).
    @Test(arguments: [(DType.q4_K, 15), (.q5_K, 31)])
    func exactScaleOffsetBlocksRoundTrip(dtype: DType, maxLevel: Int) {
        let d: Float = 1.0 / 64, dmin: Float = 1.0 / 128
        var x = [Float](repeating: 0, count: 256)
        for s in 0..<8 {
            let sc = Float(63 - 4 * s), m = Float(63 - 5 * s)
            for i in 0..<32 { x[32 * s + i] = d * sc * Float((i * 7 + s) % (maxLevel + 1)) - dmin * m }
            x[32 * s] = -dmin * m                       // level 0 and the top level both occur
            x[32 * s + 1] = d * sc * Float(maxLevel) - dmin * m
        }
        let bytes = Quantizer.quantize(x, rows: 1, columns: 256, to: dtype)
        #expect(bytes[0] == 0x00 && bytes[1] == 0x24, "d = 1/64 as f16")    // 0x2400
        #expect(bytes[2] == 0x00 && bytes[3] == 0x20, "dmin = 1/128 as f16") // 0x2000
        bytes.withUnsafeBufferPointer { p in
            for s in 0..<8 {
                let (sc, m) = KQuantScales.scaleMin(s, p.baseAddress! + 4)
                #expect(sc == Float(63 - 4 * s) && m == Float(63 - 5 * s), "sub-block \(s): codes \(sc), \(m)")
            }
        }
        let back = Self.roundTrip(x, rows: 1, columns: 256, dtype)
        #expect(maxAbsDifference(x, back) <= 1e-6)
    }

    /// Q6_K blocks that are exactly `c_s · l` with `l` in -32...31 and `c_s = c·k_s/128` come back
    /// exactly, the int8 scale codes being `-k_s` under `d = -c/128`.
    @Test func exactSymmetricBlocksRoundTrip() {
        let c: Float = 1.0 / 16
        var x = [Float](repeating: 0, count: 256)
        for s in 0..<16 {
            let k = Float(128 - 5 * s)
            for i in 0..<16 { x[16 * s + i] = c * k / 128 * Float([-32, 31, -31, 7, 0, 1, -5, 20, 12, -17, 3, 30, -9, 25, -2, 15][(i + s) % 16]) }
        }
        let bytes = Quantizer.quantize(x, rows: 1, columns: 256, to: .q6_K)
        let d = HalfConversion.f16ToF32(UInt16(bytes[208]) | UInt16(bytes[209]) << 8)
        #expect(d == -c / 128)
        for s in 0..<16 { #expect(Int8(bitPattern: bytes[192 + s]) == Int8(-(128 - 5 * s)), "scale code \(s)") }
        #expect(maxAbsDifference(x, Self.roundTrip(x, rows: 1, columns: 256, .q6_K)) <= 1e-6)
    }

    /// Zero blocks stay zero, constant blocks keep their value within a step, and rows of
    /// several super-blocks are independent (quantizing a row equals quantizing its halves).
    @Test(arguments: kTypes)
    func edgeBlocksAndRowIndependence(dtype: DType) {
        let zeros = [Float](repeating: 0, count: 256)
        #expect(Self.roundTrip(zeros, rows: 1, columns: 256, dtype) == zeros)
        let constant = [Float](repeating: -0.75, count: 256)
        #expect(maxAbsDifference(constant, Self.roundTrip(constant, rows: 1, columns: 256, dtype)) <= 0.75 / 30)
        let x = Self.weightLike(512, seed: 3)
        let whole = Quantizer.quantize(x, rows: 1, columns: 512, to: dtype)
        let halves = Quantizer.quantize(Array(x[..<256]), rows: 1, columns: 256, to: dtype)
            + Quantizer.quantize(Array(x[256...]), rows: 1, columns: 256, to: dtype)
        #expect(whole == halves)
    }
}
