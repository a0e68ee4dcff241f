import Testing
@testable import TridentKernels

/// The row-group layout (`WeightMatrix.packedInRowGroups`) and its loops, called directly so
/// that every CPU runs them (without AVX-512 the C helpers are plain loops). References come
/// from the unpacked matrix.
@Suite struct RowGroupsTests {
    static let pool = ThreadPool(threadCount: 2)
    static let types: [DType] = [.q4_1, .q4_0, .q8_0]

    static func matrix(_ dtype: DType, rows: Int, columns: Int, seed: UInt64) -> WeightMatrix {
        OwnedWeights(values: randomFloats(rows * columns, seed: seed), rows: rows, columns: columns, dtype: dtype).matrix
    }

    /// `matmul` through the public entry point (decode matvec, few-token and prefill paths).
    static func product(_ w: WeightMatrix, _ x: [Float], tokens: Int, pool: ThreadPool = pool) -> [Float] {
        var out = [Float](repeating: .nan, count: tokens * w.rows)
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                matmul(weight: w, input: xp.baseAddress!, output: op.baseAddress!, tokens: tokens, pool: pool,
                       activations: .float32)
            }
        }
        return out
    }

    /// Packing keeps every row: `dequantizeRow` of the packed matrix equals the original's
    /// exactly, and `copyRowFromGroups` gives back the original GGUF bytes.
    @Test(arguments: types)
    func packingKeepsEveryRow(dtype: DType) {
        let rows = 48, columns = 96
        let original = Self.matrix(dtype, rows: rows, columns: columns, seed: 3)
        let packed = original.packedInRowGroups()
        #expect(packed.layout == .rowGroups)
        #expect(packed.byteCount == original.byteCount)
        let rowBytes = dtype.rowBytes(columns)
        var bytes = [UInt8](repeating: 0, count: rowBytes)
        var a = [Float](repeating: 0, count: columns), b = [Float](repeating: 1, count: columns)
        for r in 0..<rows {
            bytes.withUnsafeMutableBytes { packed.copyRowFromGroups(r, into: $0.baseAddress!) }
            let stored = Array(UnsafeRawBufferPointer(start: original.rowPointer(r), count: rowBytes))
            #expect(bytes == stored, "row \(r) bytes")
            a.withUnsafeMutableBufferPointer { original.dequantizeRow(r, into: $0.baseAddress!) }
            b.withUnsafeMutableBufferPointer { packed.dequantizeRow(r, into: $0.baseAddress!) }
            #expect(a == b, "row \(r) values")
        }
    }

    /// Every token count (1 = decode, 2...11 = four-token passes, 12+ = prefill panels
    /// dequantizing whole groups) against the Double reference of the unpacked matrix, with
    /// one and two threads. Tolerance: 2e-6 · Σ|w·x| per element.
    @Test(arguments: types)
    func productsMatchReference(dtype: DType) {
        let columns = 160
        for rows in [16, 48, 80] {
            let original = Self.matrix(dtype, rows: rows, columns: columns, seed: UInt64(rows))
            let packed = original.packedInRowGroups()
            let dense = dequantizeAll(original)
            for tokens in [1, 2, 3, 4, 5, 11, 12, 17, 40] {
                let x = randomFloats(tokens * columns, in: -2...2, seed: UInt64(tokens))
                let reference = referenceMatmul(original, x, tokens: tokens)
                for pool in [ThreadPool(threadCount: 1), Self.pool] {
                    let out = Self.product(packed, x, tokens: tokens, pool: pool)
                    let worst = worstProductError(out, reference, dense: dense, x: x, rows: rows, columns: columns,
                                                  tokens: tokens)
                    #expect(worst <= 1, "\(dtype) \(rows) rows, \(tokens) tokens, \(pool.threadCount) threads: \(worst)x the bound")
                }
            }
        }
    }

    /// Column slices (tensor-parallel row-parallel layers) and row slices (whole groups) of a
    /// packed matrix are views that multiply like the same slices of the original.
    @Test(arguments: types)
    func slicesAreViews(dtype: DType) {
        let original = Self.matrix(dtype, rows: 64, columns: 192, seed: 9)
        let packed = original.packedInRowGroups()
        let columnSlice = packed.columns(64..<160), rowSlice = packed.rows(16..<48)
        #expect(columnSlice.layout == .rowGroups && columnSlice.base == packed.base + 2 * 16 * dtype.bytesPerBlock)
        for (slice, expected) in [(columnSlice, original.columns(64..<160)), (rowSlice, original.rows(16..<48))] {
            for tokens in [1, 3, 20] {
                let x = randomFloats(tokens * slice.columns, in: -1...1, seed: 4)
                let reference = referenceMatmul(expected, x, tokens: tokens)
                let out = Self.product(slice, x, tokens: tokens)
                let worst = worstProductError(out, reference, dense: dequantizeAll(expected), x: x, rows: slice.rows,
                                              columns: slice.columns, tokens: tokens)
                #expect(worst <= 1, "\(dtype) slice \(slice.rows)x\(slice.columns), \(tokens) tokens: \(worst)x")
            }
        }
    }

    /// Matrices that cannot be packed come back unchanged: other types, row counts that are
    /// not whole groups.
    @Test func unsupportedMatricesStayInRows() {
        for (dtype, rows) in [(DType.q4_K, 32), (.f32, 32), (.q4_1, 40), (.q8_0, 8)] {
            let columns = dtype.blockSize == 256 ? 256 : 64
            let w = Self.matrix(dtype, rows: rows, columns: columns, seed: 1)
            #expect(!w.canPackInRowGroups)
            let same = w.packedInRowGroups()
            #expect(same.layout == .rows && same.base == w.base, "\(dtype) \(rows) rows")
        }
    }

    /// `matvecFused` over packed and unpacked targets equals separate `matvec` calls exactly
    /// (its chunks fall on group boundaries).
    @Test func fusedMatvecEqualsSeparateCalls() {
        let columns = 128
        let a = Self.matrix(.q4_1, rows: 80, columns: columns, seed: 1).packedInRowGroups()
        let b = Self.matrix(.q8_0, rows: 48, columns: columns, seed: 2).packedInRowGroups()
        let x = randomFloats(columns, seed: 5)
        let separate = [a, b].map { Self.product($0, x, tokens: 1) }
        var out0 = [Float](repeating: .nan, count: a.rows), out1 = [Float](repeating: .nan, count: b.rows)
        x.withUnsafeBufferPointer { xp in
            out0.withUnsafeMutableBufferPointer { o0 in
                out1.withUnsafeMutableBufferPointer { o1 in
                    matvecFused(MatvecTarget(weight: a, output: o0.baseAddress!), MatvecTarget(weight: b, output: o1.baseAddress!),
                                input: xp.baseAddress!, pool: Self.pool, activations: .float32)
                }
            }
        }
        let fused = [out0, out1]
        #expect(fused == separate)
    }
}
