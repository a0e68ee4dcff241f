import Testing
@testable import TridentKernels

@Suite struct MatmulTests {
    static let pool = ThreadPool(threadCount: 3)

    /// Fast vs reference on awkward sizes; tolerance: 2e-6 · Σ|w||x| per output element
    /// (float32 accumulation in a different order vs Double). Types without a quantizer
    /// (Q2_K, Q3_K, IQ4) are covered by `SuperBlockKernelTests`; 256-element K-quant
    /// super-blocks get widths of whole super-blocks.
    @Test(arguments: DType.allCases.filter { Quantizer.canQuantize($0) })
    func matchesReference(dtype: DType) {
        for rows in [1, 31, 33, 97] {
            for columns in (dtype.blockSize == 256 ? [256, 512, 768] : [64, 96, 160]) {
                let w = OwnedWeights(values: randomFloats(rows * columns, seed: UInt64(rows * 1000 + columns)),
                                     rows: rows, columns: columns, dtype: dtype).matrix
                let dense = dequantizeAll(w)
                for tokens in [1, 2, 7, 33] {
                    let x = randomFloats(tokens * columns, in: -2...2, seed: UInt64(tokens))
                    let fast = fastMatmul(w, x, tokens: tokens, pool: Self.pool)
                    let reference = referenceMatmul(w, x, tokens: tokens)
                    for t in 0..<tokens {
                        for r in 0..<rows {
                            var magnitude: Float = 0
                            for c in 0..<columns { magnitude += abs(dense[r * columns + c] * x[t * columns + c]) }
                            let error = abs(fast[t * rows + r] - reference[t * rows + r])
                            #expect(error <= 2e-6 * magnitude + 1e-6,
                                    "\(dtype) \(rows)x\(columns) tokens \(tokens) [\(t), \(r)]: error \(error)")
                        }
                    }
                }
            }
        }
    }

    /// Reference against an independent float computation from the dequantized matrix.
    @Test func referenceIsInputTimesWeightTransposed() {
        let w = OwnedWeights(values: [1, 2, 3, 4, 5, 6], rows: 2, columns: 3, dtype: .f32).matrix
        let out = referenceMatmul(w, [1, 0, -1, 2, 2, 2], tokens: 2)
        #expect(out == [-2, -2, 12, 30])
        #expect(fastMatmul(w, [1, 0, -1, 2, 2, 2], tokens: 2, pool: Self.pool) == [-2, -2, 12, 30])
        #expect(fastMatmul(w, [1, 0, -1], tokens: 1, pool: Self.pool) == [-2, -2])
    }

    /// Row slices, column slices (with inputStride) and outputStride write the right places.
    @Test(arguments: [DType.q4_1, .q8_0, .f32])
    func slicesAndStrides(dtype: DType) {
        let rows = 40, columns = 128, tokens = 3
        let full = OwnedWeights(values: randomFloats(rows * columns, seed: 5), rows: rows, columns: columns,
                                dtype: dtype).matrix
        let x = randomFloats(tokens * columns, seed: 6)
        let expected = referenceMatmul(full.rows(8..<29).columns(32..<96),
                                       Array((0..<tokens).flatMap { x[($0 * columns + 32)..<($0 * columns + 96)] }),
                                       tokens: tokens)
        for t in [1, tokens] {
            var out = [Float](repeating: -7, count: t * 50)
            x.withUnsafeBufferPointer { xp in
                out.withUnsafeMutableBufferPointer { op in
                    matmul(weight: full.rows(8..<29).columns(32..<96), input: xp.baseAddress! + 32,
                           output: op.baseAddress! + 10, tokens: t, pool: Self.pool,
                           inputStride: columns, outputStride: 50)
                }
            }
            for token in 0..<t {
                for j in 0..<50 {
                    let value = out[token * 50 + j]
                    if (10..<31).contains(j) {
                        #expect(abs(value - expected[token * 21 + j - 10]) < 1e-4)
                    } else {
                        #expect(value == -7, "wrote outside the output slice at [\(token), \(j)]")
                    }
                }
            }
        }
    }
}
