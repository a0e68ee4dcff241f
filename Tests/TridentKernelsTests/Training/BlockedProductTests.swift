import Testing
@testable import TridentKernels

/// `BlockedProduct` (the training GEMM) against a Double reference, for every register layout
/// (`GemmKernel.allCases`, whatever this CPU prefers), every operand layout the packing code
/// distinguishes (row-major, transposed, general strides), sizes with tails of the micro-kernel
/// panels, of the depth block (256) and of the work tiles, overwrite and accumulate, 1 and 3
/// threads. Tolerance: 2e-6 × max(1, max |reference|) (sums of ≤ 600 products in [-1, 1]).
@Suite struct BlockedProductTests {
    /// (m, n, k): 1s, below one panel, odd tails past the 12×32 / 6×16 panels, past a
    /// 144-row or 256-column tile, and depths past one and two depth blocks.
    static let shapes: [(m: Int, n: Int, k: Int)] = [
        (1, 1, 1), (5, 3, 7), (13, 33, 17), (12, 32, 256), (150, 40, 9), (7, 300, 31), (29, 17, 600), (145, 257, 259),
    ]

    enum Layout: CaseIterable { case rowMajor, transposed, strided }

    /// Lays out `values` (`[rows, columns]` row-major) in `layout`; returns the storage and the view's strides.
    static func store(_ values: [Float], rows: Int, columns: Int, _ layout: Layout) -> ([Float], rowStride: Int, columnStride: Int) {
        switch layout {
        case .rowMajor:
            return (values, columns, 1)
        case .transposed:
            var out = [Float](repeating: 0, count: values.count)
            for i in 0..<rows { for j in 0..<columns { out[j * rows + i] = values[i * columns + j] } }
            return (out, 1, rows)
        case .strided:   // every element two floats apart, rows padded by 3 more
            let rowStride = 2 * columns + 3
            var out = [Float](repeating: .nan, count: max(rows * rowStride, 1))
            for i in 0..<rows { for j in 0..<columns { out[i * rowStride + 2 * j] = values[i * columns + j] } }
            return (out, rowStride, 2)
        }
    }

    static func reference(_ a: [Float], _ b: [Float], _ c: [Float]?, m: Int, n: Int, k: Int) -> [Double] {
        var out = c.map { $0.map(Double.init) } ?? [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for p in 0..<k {
                let x = Double(a[i * k + p])
                for j in 0..<n { out[i * n + j] += x * Double(b[p * n + j]) }
            }
        }
        return out
    }

    static func fast(_ a: [Float], _ b: [Float], start: [Float]?, m: Int, n: Int, k: Int, aLayout: Layout, bLayout: Layout,
                     kernel: GemmKernel, pool: ThreadPool, prepackLimit: Int = GemmPlan.prepackLimit) -> [Float] {
        let (aStore, ars, acs) = store(a, rows: m, columns: k, aLayout)
        let (bStore, brs, bcs) = store(b, rows: k, columns: n, bLayout)
        var c = start ?? [Float](repeating: .nan, count: m * n)
        aStore.withUnsafeBufferPointer { ap in
            bStore.withUnsafeBufferPointer { bp in
                c.withBase { cp in
                    BlockedProduct.multiply(a: StridedMatrix(base: ap.baseAddress!, rowStride: ars, columnStride: acs),
                                            b: StridedMatrix(base: bp.baseAddress!, rowStride: brs, columnStride: bcs),
                                            c: cp, ldc: n, m: m, n: n, k: k, accumulate: start != nil, pool: pool,
                                            kernel: kernel, prepackLimit: prepackLimit)
                }
            }
        }
        return c
    }

    @Test(arguments: GemmKernel.allCases, 0..<8)
    func matchesReferenceInEveryLayout(kernel: GemmKernel, shapeIndex: Int) {
        let (m, n, k) = Self.shapes[shapeIndex]
        let a = randomFloats(m * k, seed: 11), b = randomFloats(k * n, seed: 12), start = randomFloats(m * n, seed: 13)
        let overwritten = Self.reference(a, b, nil, m: m, n: n, k: k)
        let accumulated = Self.reference(a, b, start, m: m, n: n, k: k)
        for aLayout in Layout.allCases {
            for bLayout in Layout.allCases {
                for pool in testPools {
                    let what = "\(kernel) \(Self.shapes[shapeIndex]) A \(aLayout) B \(bLayout) threads \(pool.threadCount)"
                    let c = Self.fast(a, b, start: nil, m: m, n: n, k: k, aLayout: aLayout, bLayout: bLayout,
                                      kernel: kernel, pool: pool)
                    #expect(scaledError(c, overwritten) < 2e-6, "overwrite \(what)")
                    let d = Self.fast(a, b, start: start, m: m, n: n, k: k, aLayout: aLayout, bLayout: bLayout,
                                      kernel: kernel, pool: pool)
                    #expect(scaledError(d, accumulated) < 2e-6, "accumulate \(what)")
                }
            }
        }
    }

    /// Operands packed tile by tile instead of whole (as for an LM head's big operands): both
    /// (limit 0), or only the one that fits (limit between the two sizes), in every tiling.
    @Test(arguments: GemmKernel.allCases, [(150, 70, 300), (29, 300, 259), (7, 40, 600)])
    func tilePackingMatchesReference(kernel: GemmKernel, shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        let a = randomFloats(m * k, seed: 31), b = randomFloats(k * n, seed: 32), start = randomFloats(m * n, seed: 33)
        let accumulated = Self.reference(a, b, start, m: m, n: n, k: k)
        let limits = [0, min(m, n) * k + 2_000, max(m, n) * k + 10_000]
        for limit in limits {
            for (aLayout, bLayout) in [(Layout.rowMajor, Layout.rowMajor), (.transposed, .rowMajor), (.rowMajor, .transposed),
                                       (.strided, .strided)] {
                for pool in testPools {
                    let c = Self.fast(a, b, start: start, m: m, n: n, k: k, aLayout: aLayout, bLayout: bLayout,
                                      kernel: kernel, pool: pool, prepackLimit: limit)
                    #expect(scaledError(c, accumulated) < 2e-6,
                            "\(kernel) \(shape) limit \(limit) A \(aLayout) B \(bLayout) threads \(pool.threadCount)")
                }
            }
        }
    }

    /// Results do not depend on the thread count (each element is summed in one fixed order).
    @Test(arguments: GemmKernel.allCases)
    func sameBitsForEveryThreadCount(kernel: GemmKernel) {
        let (m, n, k) = (145, 257, 300)
        let a = randomFloats(m * k, seed: 21), b = randomFloats(k * n, seed: 22)
        let one = Self.fast(a, b, start: nil, m: m, n: n, k: k, aLayout: .rowMajor, bLayout: .transposed,
                            kernel: kernel, pool: testPools[0])
        let three = Self.fast(a, b, start: nil, m: m, n: n, k: k, aLayout: .rowMajor, bLayout: .transposed,
                              kernel: kernel, pool: testPools[1])
        #expect(one == three)
    }

    /// A zero depth overwrites with zeros, or leaves an accumulated C alone.
    @Test func zeroDepth() {
        let start = randomFloats(6, seed: 5)
        let zeros = Self.fast([], [], start: nil, m: 2, n: 3, k: 0, aLayout: .rowMajor, bLayout: .rowMajor,
                              kernel: .preferred, pool: testPools[0])
        #expect(zeros == [Float](repeating: 0, count: 6))
        let kept = Self.fast([], [], start: start, m: 2, n: 3, k: 0, aLayout: .rowMajor, bLayout: .rowMajor,
                             kernel: .preferred, pool: testPools[0])
        #expect(kept == start)
    }
}
