import Testing
@testable import TridentKernels

/// The 16-lane two-rows-per-pass decode loops of the K-quants, IQ4 and q5 types
/// (`RowDot.wideBlockRows`, used by `MatvecKernel.wide`) and the 8-lane loops
/// (`MatvecKernel.narrow`), each against dequantize-then-Double-dot (`matmulReference`), on
/// random well-formed blocks (`RandomBlocks`) with odd row counts, several blocks per row,
/// weight scales from 2^-14 to 4 and activations from 1e-3 to 1e3.
@Suite struct WideBlockKernelTests {
    static let types: [DType] = [.q4_K, .q6_K, .q5_K, .iq4_xs, .iq4_nl, .q2_K, .q3_K, .q5_0, .q5_1]
    static let pool = ThreadPool(threadCount: 3)

    /// Random rows with every f16 scale and minimum field multiplied by 2^`exponent` (exact in
    /// f16 for -4...8: `RandomBlocks` writes magnitudes 2^-10 ... 2^-6).
    static func weights(_ dtype: DType, rows: Int, columns: Int, exponent: Int, seed: UInt64) -> WeightMatrix {
        var bytes = RandomBlocks.rows(rows, columns: columns, dtype: dtype, seed: seed)
        let (scales, mins) = RandomBlocks.halfFields(dtype)
        let factor = Float(sign: .plus, exponent: exponent, significand: 1)
        for block in stride(from: 0, to: bytes.count, by: dtype.bytesPerBlock) {
            for offset in scales + mins {
                let bits = UInt16(bytes[block + offset]) | UInt16(bytes[block + offset + 1]) << 8
                let scaled = HalfConversion.f32ToF16(HalfConversion.f16ToF32(bits) * factor)
                bytes[block + offset] = UInt8(scaled & 0xFF)
                bytes[block + offset + 1] = UInt8(scaled >> 8)
            }
        }
        return OwnedWeights(bytes: bytes, rows: rows, columns: columns, dtype: dtype).matrix
    }

    /// Activations of magnitude about `scale`, or spread over 1e-3 ... 1e3 when `scale` is nil.
    static func activations(_ columns: Int, scale: Float?, seed: UInt64) -> [Float] {
        let base = randomFloats(columns, in: -1...1, seed: seed)
        guard let scale else {
            let powers: [Float] = [1e-3, 1e-2, 1e-1, 1, 1e1, 1e2, 1e3]
            let exponents = randomFloats(columns, in: -3...3, seed: seed + 1)
            return zip(base, exponents).map { $0 * powers[Int($1.rounded()) + 3] }
        }
        return base.map { $0 * scale }
    }

    /// Runs `matvec` with `kernel` and returns `[rows]`.
    static func run(_ w: WeightMatrix, _ x: [Float], _ kernel: MatvecKernel) -> [Float] {
        var out = [Float](repeating: .nan, count: w.rows)
        matvec(weight: w, input: x, output: &out, pool: pool, kernel: kernel)
        return out
    }

    /// Largest |fast − reference| / (2e-6 · Σ_c |w[r, c]·x[c]|) over the rows (≤ 1 passes):
    /// float32 sums in another order than the Double reference.
    static func worstError(_ fast: [Float], _ reference: [Float], _ dense: [Float], _ x: [Float], rows: Range<Int>) -> Float {
        let columns = x.count
        var worst: Float = 0
        for r in rows {
            var magnitude: Float = 0
            for c in 0..<columns { magnitude += abs(dense[r * columns + c] * x[c]) }
            worst = max(worst, abs(fast[r] - reference[r]) / (2e-6 * magnitude))
        }
        return worst
    }

    @Test(arguments: types)
    func wideAndNarrowMatchReference(dtype: DType) {
        let widths = dtype.blockSize == 256 ? [256, 768, 1024] : [32, 96, 256, 800]
        var worst: [MatvecKernel: Float] = [:]
        for (i, rows) in [1, 2, 5, 33].enumerated() {
            for (j, columns) in widths.enumerated() {
                for exponent in [-4, 0, 8] {
                    let seed = UInt64(1000 * i + 100 * j + exponent + 10)
                    let w = Self.weights(dtype, rows: rows, columns: columns, exponent: exponent, seed: seed)
                    let dense = dequantizeAll(w)
                    #expect(dense.allSatisfy { $0.isFinite }, "\(dtype): random blocks decode to non-finite values")
                    for scale: Float? in [1e-3, 1, 1e3, nil] {
                        let x = Self.activations(columns, scale: scale, seed: seed &* 7)
                        let reference = referenceMatmul(w, x, tokens: 1)
                        for kernel in MatvecKernel.allCases {
                            let error = Self.worstError(Self.run(w, x, kernel), reference, dense, x, rows: 0..<rows)
                            worst[kernel] = max(worst[kernel] ?? 0, error)
                            #expect(error <= 1, "\(dtype) \(kernel) \(rows)x\(columns) 2^\(exponent) x~\(String(describing: scale)): \(error)x the tolerance")
                        }
                    }
                }
            }
        }
        #expect(MatvecKernel.hasWideLoop(dtype))
        print("\(dtype): worst error / tolerance: wide \(worst[.wide] ?? -1), narrow \(worst[.narrow] ?? -1)")
    }

    /// The wide loop on ranges that start at an odd row and end anywhere writes exactly those
    /// rows, and each equals the narrow loop within the tolerance.
    @Test(arguments: types)
    func wideRowsOnOddRanges(dtype: DType) {
        let rows = 13, columns = dtype.blockSize == 256 ? 512 : 96
        let w = Self.weights(dtype, rows: rows, columns: columns, exponent: 0, seed: 77)
        let dense = dequantizeAll(w)
        let x = Self.activations(columns, scale: 1, seed: 78)
        var sums = [Float](repeating: 0, count: columns / 32)
        x.withUnsafeBufferPointer { RowDot.blockSums($0.baseAddress!, columns / 32, into: &sums) }
        let narrow = Self.run(w, x, .narrow)
        for range in [1..<2, 3..<10, 5..<13, 0..<13, 4..<4] {
            var out = [Float](repeating: -7, count: rows)
            let handled = x.withUnsafeBufferPointer { xp in
                out.withUnsafeMutableBufferPointer { op in
                    matvecRowsWide(w, range, xp.baseAddress!, sums, op.baseAddress!)
                }
            }
            #expect(handled)
            for r in 0..<rows where !range.contains(r) { #expect(out[r] == -7, "\(dtype) wrote row \(r) outside \(range)") }
            #expect(Self.worstError(out, narrow, dense, x, rows: range) <= 2, "\(dtype) \(range)")
        }
    }

    /// The vector scale decoders equal the scalar ones on random scale bytes.
    @Test func vectorScaleDecodersEqualScalar() {
        var generator = SeededGenerator(seed: 5)
        for _ in 0..<200 {
            let bytes = (0..<12).map { _ in UInt8.random(in: 0...255, using: &generator) }
            bytes.withUnsafeBufferPointer { q in
                let minsScales = KQuantScales.minsScales16(UnsafeRawPointer(q.baseAddress!))
                for j in 0..<8 {
                    let (s, m) = KQuantScales.scaleMin(j, q.baseAddress!)
                    #expect(minsScales[8 + j] == s && minsScales[j] == m, "\(bytes) sub-block \(j)")
                }
            }
        }
        let blocks = RandomBlocks.rows(1, columns: 256 * 50, dtype: .iq4_xs, seed: 6)
        blocks.withUnsafeBufferPointer { p in
            for b in 0..<50 {
                let block = UnsafeRawPointer(p.baseAddress! + 136 * b)
                let high = block.loadUnaligned(fromByteOffset: KQuantLayout.IQ4XS.scalesHigh, as: UInt16.self)
                let low = (block + KQuantLayout.IQ4XS.scalesLow).assumingMemoryBound(to: UInt8.self)
                let scales = IQ4XSRowDot.scales(block)
                for ib in 0..<8 { #expect(scales[ib] == KQuantScales.iq4xsScale(ib, low: low, high: high), "block \(b) \(ib)") }
            }
        }
    }

    /// `lookup16` reads table[index & 15] for every index 0...255 (high bits ignored).
    @Test func lookupUsesTheLowFourBits() {
        let table = V16((0..<16).map { Float($0 * $0) - 7.5 })
        for first in stride(from: 0, to: 256, by: 16) {
            let index = SIMD16<UInt32>((0..<16).map { UInt32((first + $0 * 37) % 256) })
            let got = lookup16(table, index)
            for i in 0..<16 { #expect(got[i] == table[Int(index[i] & 15)], "index \(index[i])") }
        }
    }

    /// Exactly the float16 and bfloat16 types keep the narrow loop under `wide`.
    @Test func everyBlockTypeHasAWideLoop() {
        for dtype in DType.allCases {
            #expect(MatvecKernel.hasWideLoop(dtype) == !(dtype == .f16 || dtype == .bf16), "\(dtype)")
        }
    }
}
