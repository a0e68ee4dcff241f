import Testing
@testable import TridentKernels

/// Both prefill kernels (`PrefillKernel.tiled`, `.panels`) on every CPU: the one this CPU
/// does not pick by default is only tested here.
@Suite struct MatmulPanelsTests {
    static let pool = ThreadPool(threadCount: 2)

    static func run(_ w: WeightMatrix, _ x: [Float], tokens: Int, kernel: PrefillKernel,
                    pool: ThreadPool = pool) -> [Float] {
        var out = [Float](repeating: .nan, count: tokens * w.rows)
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                matmul(weight: w, input: xp.baseAddress!, output: op.baseAddress!, tokens: tokens, pool: pool,
                       activations: .float32, kernel: kernel)
            }
        }
        return out
    }

    /// Each kernel against the Double reference, on row counts around the 12-row register
    /// tile and the 24-row work item, and token counts around the 16- and 32-token panels
    /// (`panels` hands fewer than `panelMinimumTokens` to `tiled`).
    /// Tolerance: 2e-6 · Σ|w·x| per element (float32 sums in another order than Double's).
    @Test(arguments: PrefillKernel.allCases, [DType.f32, .q4_1, .q8_0, .q4_K])
    func matchesReference(kernel: PrefillKernel, dtype: DType) {
        let columns = dtype.blockSize == 256 ? 512 : 96
        for rows in [1, 11, 12, 13, 25, 49] {
            let w = OwnedWeights(values: randomFloats(rows * columns, seed: UInt64(rows)), rows: rows, columns: columns,
                                 dtype: dtype).matrix
            let dense = dequantizeAll(w)
            for tokens in [2, 6, 15, 16, 17, 32, 33, 50] {
                let x = randomFloats(tokens * columns, in: -2...2, seed: UInt64(100 + tokens))
                let fast = Self.run(w, x, tokens: tokens, kernel: kernel)
                let reference = referenceMatmul(w, x, tokens: tokens)
                let worst = worstProductError(fast, reference, dense: dense, x: x, rows: rows, columns: columns,
                                              tokens: tokens)
                #expect(worst <= 1, "\(kernel) \(dtype) \(rows) rows, \(tokens) tokens: error \(worst)x the bound")
            }
        }
    }

    /// A token's result does not depend on the tokens beside it or on the thread count: the
    /// same input row gives bit-identical outputs among the fewest tokens the kernel takes,
    /// in a 16-token panel, in the second of two 32-token panels, and with one thread.
    @Test(arguments: PrefillKernel.allCases)
    func resultsDoNotDependOnTheBatch(kernel: PrefillKernel) {
        let rows = 37, columns = 160
        let w = OwnedWeights(values: randomFloats(rows * columns, seed: 9), rows: rows, columns: columns, dtype: .q4_1).matrix
        let probe = randomFloats(columns, in: -1...1, seed: 10)
        var outputs: [[Float]] = []
        for (tokens, position) in [(PrefillKernel.panelMinimumTokens, 0), (16, 11), (50, 40)] {
            var x = randomFloats(tokens * columns, in: -1...1, seed: UInt64(tokens))
            x.replaceSubrange((position * columns)..<((position + 1) * columns), with: probe)
            let out = Self.run(w, x, tokens: tokens, kernel: kernel)
            outputs.append(Array(out[(position * rows)..<((position + 1) * rows)]))
        }
        var x = randomFloats(20 * columns, seed: 20)
        x.replaceSubrange((3 * columns)..<(4 * columns), with: probe)
        let single = Self.run(w, x, tokens: 20, kernel: kernel, pool: ThreadPool(threadCount: 1))
        outputs.append(Array(single[(3 * rows)..<(4 * rows)]))
        for other in outputs.dropFirst() { #expect(other == outputs[0]) }
    }

    /// Input and output strides: a column slice of wider activations into a slice of a
    /// wider output, nothing written outside it.
    @Test(arguments: PrefillKernel.allCases)
    func stridesWriteOnlyTheSlice(kernel: PrefillKernel) {
        let rows = 30, columns = 128, tokens = 19, width = 50
        let full = OwnedWeights(values: randomFloats(rows * columns, seed: 5), rows: rows, columns: columns,
                                dtype: .q8_0).matrix
        let slice = full.rows(4..<29).columns(32..<96)
        let x = randomFloats(tokens * columns, seed: 6)
        let expected = referenceMatmul(slice, (0..<tokens).flatMap { x[($0 * columns + 32)..<($0 * columns + 96)] },
                                       tokens: tokens)
        var out = [Float](repeating: -7, count: tokens * width)
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                matmul(weight: slice, input: xp.baseAddress! + 32, output: op.baseAddress! + 10, tokens: tokens,
                       pool: Self.pool, inputStride: columns, outputStride: width, activations: .float32, kernel: kernel)
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

    /// The panel layout: 32-token panels, the last one 16 wide when at most 16 are left.
    @Test func panelLayout() {
        #expect(MatmulPanels.panels(tokens: 6, columns: 10).map(\.width) == [16])
        #expect(MatmulPanels.panels(tokens: 17, columns: 10).map(\.width) == [32])
        #expect(MatmulPanels.panels(tokens: 48, columns: 10).map(\.width) == [32, 16])
        #expect(MatmulPanels.panels(tokens: 49, columns: 10).map(\.width) == [32, 32])
        #expect(MatmulPanels.panels(tokens: 48, columns: 10).map(\.offset) == [0, 320])
    }
}
