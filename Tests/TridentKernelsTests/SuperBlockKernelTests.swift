import Testing
@testable import TridentKernels

/// The decode dot products and the batched (prefill) path of the types added with the
/// K-quants, against dequantize-then-Double-dot (`matmulReference`), on random well-formed
/// blocks (`RandomBlocks`) with odd row counts and several super-blocks per row.
@Suite struct SuperBlockKernelTests {
    static let pool = ThreadPool(threadCount: 3)
    static let types: [DType] = [.q5_0, .q5_1, .iq4_nl, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .iq4_xs]

    /// Tolerance per output: 2e-6 · Σ|w||x| + 1e-6 (float32 accumulation order vs Double).
    @Test(arguments: types)
    func matmulMatchesDequantizedReference(dtype: DType) {
        let widths = dtype.blockSize == 256 ? [256, 768] : [96, 256]
        for rows in [1, 7, 33] {
            for columns in widths {
                let bytes = RandomBlocks.rows(rows, columns: columns, dtype: dtype, seed: UInt64(rows * 7919 + columns))
                let w = OwnedWeights(bytes: bytes, rows: rows, columns: columns, dtype: dtype).matrix
                let dense = dequantizeAll(w)
                #expect(dense.allSatisfy { $0.isFinite }, "\(dtype): random blocks decode to non-finite values")
                for tokens in [1, 2, 5, 33] {
                    let x = randomFloats(tokens * columns, in: -2...2, seed: UInt64(tokens * 31 + rows))
                    let fast = fastMatmul(w, x, tokens: tokens, pool: Self.pool)
                    let reference = referenceMatmul(w, x, tokens: tokens)
                    var worst: Float = 0
                    for t in 0..<tokens {
                        for r in 0..<rows {
                            var magnitude: Float = 0
                            for c in 0..<columns { magnitude += abs(dense[r * columns + c] * x[t * columns + c]) }
                            let error = abs(fast[t * rows + r] - reference[t * rows + r])
                            worst = max(worst, error / (2e-6 * magnitude + 1e-6))
                        }
                    }
                    #expect(worst <= 1, "\(dtype) \(rows)x\(columns) tokens \(tokens): error \(worst)x the tolerance")
                }
            }
        }
    }

    /// A column slice at a block boundary (what a tensor-parallel rank holds) is a view
    /// whose rows decode to the same values as those columns of the whole row.
    @Test(arguments: types)
    func columnSlicesAtBlockBoundariesDecodeAsTheWhole(dtype: DType) {
        let block = dtype.blockSize
        let columns = 3 * block
        let w = OwnedWeights(bytes: RandomBlocks.rows(5, columns: columns, dtype: dtype, seed: 99),
                             rows: 5, columns: columns, dtype: dtype).matrix
        let whole = dequantizeAll(w)
        let slice = w.columns(block..<(3 * block))
        let part = dequantizeAll(slice)
        for r in 0..<5 {
            #expect(Array(part[(r * 2 * block)..<((r + 1) * 2 * block)]) == Array(whole[(r * columns + block)..<((r + 1) * columns)]))
        }
    }

    /// The computed IQ4 grid equals ggml's table `kvalues_iq4nl` for every nibble.
    @Test func iq4GridIsExact() {
        let table: [Float] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]
        for first in stride(from: 0, to: 16, by: 8) {
            let lanes = SIMD8<UInt32>((0..<8).map { UInt32(first + $0) })
            let got = iq4Values(lanes)
            for i in 0..<8 { #expect(got[i] == table[first + i], "nibble \(first + i)") }
        }
    }

    /// The vectorised Q3_K scale unpacking equals the scalar one on random bytes.
    @Test func q3ScaleVectorEqualsScalar() {
        let bytes = RandomBlocks.rows(4, columns: 256, dtype: .q3_K, seed: 5)
        bytes.withUnsafeBufferPointer { p in
            for block in 0..<4 {
                let scales = p.baseAddress! + block * 110 + KQuantLayout.Q3.scales
                let v = KQuantScales.q3ScalesVector(scales)
                for i in 0..<16 { #expect(v[i] == KQuantScales.q3Scale(i, scales), "block \(block) scale \(i)") }
            }
        }
    }

    /// Hand-made blocks with known values: every element of a Q4_K super-block with scale 1
    /// and minimum 0 equals its nibble times d; Q6_K with all-zero bits is −32·d·scale.
    @Test func handMadeSuperBlocksDecodeToKnownValues() {
        var q4 = [UInt8](repeating: 0, count: 144)
        q4[0] = 0x00; q4[1] = 0x3C  // d = 1.0
        for j in 0..<4 { q4[4 + j] = 1 }  // scales 0-3 = 1, mins 0
        for j in 8..<12 { q4[4 + j] = 0x01 }  // scales 4-7 = 1 (low nibble), mins 4-7 = 0
        for l in 0..<128 { q4[16 + l] = UInt8(l % 16) | UInt8((15 - l % 16) << 4) }
        let v4 = QuantFixtureTests.dequantize(q4, .q4_K)
        for chunk in 0..<4 {
            for l in 0..<32 {
                #expect(v4[64 * chunk + l] == Float((32 * chunk + l) % 16))
                #expect(v4[64 * chunk + 32 + l] == Float(15 - (32 * chunk + l) % 16))
            }
        }
        var q6 = [UInt8](repeating: 0, count: 210)
        for i in 0..<16 { q6[192 + i] = UInt8(bitPattern: Int8(i - 8)) }
        q6[208] = 0x00; q6[209] = 0x38  // d = 0.5
        let v6 = QuantFixtureTests.dequantize(q6, .q6_K)
        for i in 0..<256 {
            let scale = Float(i / 16 - 8)  // scale index = element / 16 in ggml's order
            #expect(v6[i] == -32 * 0.5 * scale, "q6_K element \(i)")
        }
    }
}
