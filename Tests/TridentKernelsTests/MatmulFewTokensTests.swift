import Testing
@testable import TridentKernels

/// The few-token loops (`MatmulFewTokens`, the decode step of a handful of sequences), called
/// directly so that every CPU runs them.
@Suite struct MatmulFewTokensTests {
    static let pool = ThreadPool(threadCount: 2)

    /// Against the Double reference on odd row counts (a last unpaired row, a partial work
    /// item) and every token count below the panel kernel's minimum (groups of four and a
    /// remainder). Tolerance: 2e-6 · Σ|w·x| per element.
    @Test(arguments: [DType.q4_1, .q4_0, .q8_0])
    func matchesReference(dtype: DType) {
        let columns = 96
        for rows in [1, 3, 33, 65] {
            let w = OwnedWeights(values: randomFloats(rows * columns, seed: UInt64(rows)), rows: rows, columns: columns,
                                 dtype: dtype).matrix
            let dense = dequantizeAll(w)
            for tokens in 1..<PrefillKernel.panelMinimumTokens {
                let x = randomFloats(tokens * columns, in: -2...2, seed: UInt64(tokens))
                var out = [Float](repeating: .nan, count: tokens * rows)
                x.withUnsafeBufferPointer { xp in
                    out.withUnsafeMutableBufferPointer { op in
                        MatmulFewTokens.run(weight: w, input: xp.baseAddress!, inputStride: columns, output: op.baseAddress!,
                                            outputStride: rows, tokens: tokens, pool: Self.pool)
                    }
                }
                let reference = referenceMatmul(w, x, tokens: tokens)
                let worst = worstProductError(out, reference, dense: dense, x: x, rows: rows, columns: columns,
                                              tokens: tokens)
                #expect(worst <= 1, "\(dtype) \(rows) rows, \(tokens) tokens: error \(worst)x the bound")
            }
        }
    }

    /// Input and output strides: a column slice of wider activations into a slice of a wider
    /// output, nothing written outside it.
    @Test func stridesWriteOnlyTheSlice() {
        let rows = 30, columns = 128, tokens = 5, width = 50
        let full = OwnedWeights(values: randomFloats(rows * columns, seed: 5), rows: rows, columns: columns, dtype: .q4_1).matrix
        let slice = full.rows(4..<29).columns(32..<96)
        let x = randomFloats(tokens * columns, seed: 6)
        let expected = referenceMatmul(slice, (0..<tokens).flatMap { x[($0 * columns + 32)..<($0 * columns + 96)] },
                                       tokens: tokens)
        var out = [Float](repeating: -7, count: tokens * width)
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                MatmulFewTokens.run(weight: slice, input: xp.baseAddress! + 32, inputStride: columns,
                                    output: op.baseAddress! + 10, outputStride: width, tokens: tokens, pool: Self.pool)
            }
        }
        for t in 0..<tokens {
            for j in 0..<width {
                let value = out[t * width + j]
                if (10..<35).contains(j) {
                    #expect(abs(value - expected[t * 25 + j - 10]) < 1e-4, "[\(t), \(j)]")
                } else {
                    #expect(value == -7, "wrote outside the output slice at [\(t), \(j)]")
                }
            }
        }
    }
}
