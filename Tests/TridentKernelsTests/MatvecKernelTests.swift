import Testing
@testable import TridentKernels

/// Every matrix-vector kernel (narrow 8-lane, wide 16-lane two-rows-at-a-time) against the
/// Double reference, on odd row counts (the wide pair loop's tail), odd chunk starts and
/// column counts that are not multiples of 64 (the f32 tails).
@Suite struct MatvecKernelTests {
    static let pool = ThreadPool(threadCount: 3)

    /// Runs `matvec` with `kernel` and returns `[rows]`.
    static func run(_ w: WeightMatrix, _ x: [Float], _ kernel: MatvecKernel) -> [Float] {
        var out = [Float](repeating: .nan, count: w.rows)
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                matvec(weight: w, input: xp.baseAddress!, output: op.baseAddress!, pool: pool, kernel: kernel)
            }
        }
        return out
    }

    /// Tolerance: 2e-6 · Σ|w||x| per output (float32 sums in another order than the Double reference).
    static func expectClose(_ fast: [Float], _ reference: [Float], _ w: WeightMatrix, _ x: [Float], _ label: String) {
        let dense = dequantizeAll(w)
        for r in 0..<w.rows {
            var magnitude: Float = 0
            for c in 0..<w.columns { magnitude += abs(dense[r * w.columns + c] * x[c]) }
            let error = abs(fast[r] - reference[r])
            #expect(error <= 2e-6 * magnitude + 1e-6, "\(label) row \(r): \(fast[r]) vs \(reference[r])")
        }
    }

    @Test(arguments: [DType.f32, .q8_0, .q4_0, .q4_1, .q5_1, .f16])
    func everyKernelMatchesReference(dtype: DType) {
        for rows in [1, 2, 3, 31, 33, 97] {
            for columns in [32, 96, 160, 576] {
                let w = OwnedWeights(values: randomFloats(rows * columns, seed: UInt64(rows * 7919 + columns)),
                                     rows: rows, columns: columns, dtype: dtype).matrix
                let x = randomFloats(columns, in: -2...2, seed: UInt64(columns + 3))
                let reference = referenceMatmul(w, x, tokens: 1)
                for kernel in MatvecKernel.allCases {
                    Self.expectClose(Self.run(w, x, kernel), reference, w, x, "\(dtype) \(kernel) \(rows)x\(columns)")
                }
            }
        }
    }

    /// The wide loop on ranges that start at an odd row and end anywhere writes exactly those rows.
    @Test(arguments: [DType.f32, .q8_0, .q4_0, .q4_1])
    func wideRowsOnOddRanges(dtype: DType) {
        let rows = 13, columns = 96
        let w = OwnedWeights(values: randomFloats(rows * columns, seed: 11), rows: rows, columns: columns,
                             dtype: dtype).matrix
        let x = randomFloats(columns, in: -2...2, seed: 12)
        let reference = referenceMatmul(w, x, tokens: 1)
        var sums = [Float](repeating: 0, count: columns / 32)
        x.withUnsafeBufferPointer { RowDot.blockSums($0.baseAddress!, columns / 32, into: &sums) }
        for range in [1..<2, 3..<10, 5..<13, 0..<13] {
            var out = [Float](repeating: -7, count: rows)
            let handled = x.withUnsafeBufferPointer { xp in
                out.withUnsafeMutableBufferPointer { op in
                    matvecRowsWide(w, range, xp.baseAddress!, sums, op.baseAddress!)
                }
            }
            #expect(handled)
            for r in 0..<rows where !range.contains(r) { #expect(out[r] == -7, "wrote row \(r) outside \(range)") }
            let dense = dequantizeAll(w)
            for r in range {
                var magnitude: Float = 0
                for c in 0..<columns { magnitude += abs(dense[r * columns + c] * x[c]) }
                #expect(abs(out[r] - reference[r]) <= 2e-6 * magnitude + 1e-6, "\(dtype) \(range) row \(r)")
            }
        }
    }

    /// Types without a wide loop report so and write nothing (matvec then uses the narrow loop).
    @Test func wideDeclinesOtherTypes() {
        let w = OwnedWeights(values: randomFloats(4 * 64, seed: 2), rows: 4, columns: 64, dtype: .f16).matrix
        let x = [Float](repeating: 1, count: 64)
        var out = [Float](repeating: -7, count: 4)
        let sums = [Float](repeating: 32, count: 2)
        let handled = matvecRowsWide(w, 0..<4, x, sums, &out)
        #expect(!handled && !MatvecKernel.hasWideLoop(.f16))
        #expect(out == [-7, -7, -7, -7])
    }

    /// Two or three products in one fork/join equal separate `matvec` calls bit for bit
    /// (mixed types and row counts, 1 and 3 threads, both kernels).
    @Test(arguments: MatvecKernel.allCases)
    func fusedEqualsSeparate(kernel: MatvecKernel) {
        let columns = 160
        let shapes: [(DType, Int)] = [(.q4_1, 33), (.q4_1, 97), (.q8_0, 5)]
        let weights = shapes.enumerated().map { i, shape in
            OwnedWeights(values: randomFloats(shape.1 * columns, seed: UInt64(40 + i)), rows: shape.1, columns: columns,
                         dtype: shape.0).matrix
        }
        let x = randomFloats(columns, in: -2...2, seed: 41)
        for pool in [ThreadPool(threadCount: 1), Self.pool] {
            let separate = weights.map { w in
                var out = [Float](repeating: .nan, count: w.rows)
                matvec(weight: w, input: x, output: &out, pool: pool, kernel: kernel)
                return out
            }
            for count in [2, 3] {
                var o0 = [Float](repeating: .nan, count: weights[0].rows)
                var o1 = [Float](repeating: .nan, count: weights[1].rows)
                var o2 = [Float](repeating: .nan, count: weights[2].rows)
                matvecFused(MatvecTarget(weight: weights[0], output: &o0), MatvecTarget(weight: weights[1], output: &o1),
                            count == 3 ? MatvecTarget(weight: weights[2], output: &o2) : nil,
                            input: x, pool: pool, kernel: kernel)
                let outs = [o0, o1, o2]
                #expect(outs[0] == separate[0] && outs[1] == separate[1], "\(kernel) \(count) products")
                if count == 3 { #expect(outs[2] == separate[2]) } else { #expect(outs[2].allSatisfy { $0.isNaN }) }
            }
        }
    }
}
