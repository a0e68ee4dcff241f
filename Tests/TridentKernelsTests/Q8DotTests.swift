import Foundation
import Testing
@testable import TridentKernels

/// The Q8_0 × 8-bit-activation integer paths (portable, AVX2, AVX-VNNI, AVX-512 VNNI: every one
/// this CPU supports) against an exact integer reference, on odd row counts, odd block counts,
/// odd row ranges, multithreaded splits, token counts across the 128-token pass, and raw weights
/// that include -128 (the sign and bias tricks' edge case).
@Suite struct Q8DotTests {
    static let pool = ThreadPool(threadCount: 3)
    static let paths = Q8DotPath.allCases.filter(\.isSupported)

    /// Q8_0 rows of random bytes over the full int8 range and random-signed f16 scales.
    static func rawWeights(rows: Int, blocks: Int, seed: UInt64) -> OwnedWeights {
        var g = TestGenerator(seed: seed)
        var bytes = [UInt8]()
        for _ in 0..<(rows * blocks) {
            let d = Float16(Float.random(in: 0.001...0.05, using: &g) * (Bool.random(using: &g) ? 1 : -1))
            bytes += [UInt8(d.bitPattern & 0xFF), UInt8(d.bitPattern >> 8)]
            for _ in 0..<32 { bytes.append(UInt8.random(in: 0...255, using: &g)) }
        }
        return OwnedWeights(bytes: bytes, rows: rows, columns: blocks * 32, dtype: .q8_0)
    }

    /// Quantized copies of `tokens` rows of `x`: quants, per-block scales, lane scales, corrections.
    static func quantize(_ x: [Float], tokens: Int, blocks: Int)
        -> (q: [Int8], d: [Float], lanes: [Float], corrections: [Int32]) {
        Q8Activations.withBuffers(tokens: tokens, blocks: blocks) { a in
            x.withUnsafeBufferPointer { for t in 0..<tokens { a.quantize($0.baseAddress! + t * blocks * 32, token: t) } }
            let lanes = Array(UnsafeBufferPointer(start: a.scales, count: tokens * blocks * 8))
            return (Array(UnsafeBufferPointer(start: a.quants, count: tokens * blocks * 32)),
                    stride(from: 0, to: lanes.count, by: 8).map { lanes[$0] }, lanes,
                    Array(UnsafeBufferPointer(start: a.corrections, count: tokens * blocks * 8)))
        }
    }

    /// Exact reference of one row · one quantized token: Σ_b d_w·d_x·Σ q_w·q_x in Double (the
    /// integer sums exact), and Σ of the magnitudes of the block terms (for the tolerance).
    static func reference(_ w: WeightMatrix, row r: Int, q: ArraySlice<Int8>, d: ArraySlice<Float>) -> (Double, Double) {
        let blocks = w.columns / 32
        var sum = 0.0, magnitude = 0.0
        for b in 0..<blocks {
            let block = w.rowPointer(r) + b * 34
            let dw = Double(Float(Float16(bitPattern: block.loadUnaligned(as: UInt16.self))))
            var dot = 0
            for i in 0..<32 {
                dot += Int(block.load(fromByteOffset: 2 + i, as: Int8.self)) * Int(q[q.startIndex + b * 32 + i])
            }
            let term = dw * Double(d[d.startIndex + b]) * Double(dot)
            sum += term
            magnitude += abs(term)
        }
        return (sum, magnitude)
    }

    /// Tolerance: float32 rounding of the scale product and of ≤ blocks additions.
    static func expectClose(_ got: Float, _ want: (Double, Double), _ label: String) {
        #expect(abs(Double(got) - want.0) <= 2e-6 * want.1 + 1e-7, "\(label): \(got) vs \(want.0)")
    }

    @Test func quantizationMatchesArithmetic() {
        let blocks = 5
        var x = randomFloats(blocks * 32, in: -3...3, seed: 5)
        for i in 32..<64 { x[i] = 0 }                      // an all-zero block
        x[70] = 1000                                      // one outlier dominating its block
        for i in 96..<128 { x[i] *= 1e-6 }                // a tiny block
        let (q, d, lanes, corrections) = Self.quantize(x, tokens: 1, blocks: blocks)
        for b in 0..<blocks {
            let amax = x[(b * 32)..<(b * 32 + 32)].map { abs($0) }.max()!
            #expect(d[b] == amax / 127)
            let id: Float = d[b] == 0 ? 0 : 1 / d[b]
            for i in (b * 32)..<(b * 32 + 32) {
                #expect(q[i] == Int8((x[i] * id).rounded()), "element \(i)")
                #expect(abs(q[i]) <= 127)
                #expect(abs(Float(q[i]) * d[b] - x[i]) <= d[b] * 0.5001, "element \(i) off by more than d/2")
            }
            for j in 0..<8 {
                #expect(lanes[b * 8 + j] == d[b])
                let four = (0..<4).reduce(Int32(0)) { $0 + Int32(q[b * 32 + 4 * j + $1]) }
                #expect(corrections[b * 8 + j] == -128 * four)
            }
        }
        #expect(d[1] == 0 && q[32..<64].allSatisfy { $0 == 0 })
    }

    @Test(arguments: paths)
    func rowsMatchIntegerReference(path: Q8DotPath) {
        for rows in [1, 2, 3, 5, 31, 33] {
            for blocks in [1, 2, 3, 5, 9, 18, 19] {
                let owned = Self.rawWeights(rows: rows, blocks: blocks, seed: UInt64(rows * 131 + blocks))
                let w = owned.matrix
                let x = randomFloats(blocks * 32, in: -2...2, seed: UInt64(blocks))
                let (q, d, _, _) = Self.quantize(x, tokens: 1, blocks: blocks)
                for range in [0..<rows, (rows / 2)..<rows, 1..<max(1, rows - 1)] {
                    var out = [Float](repeating: -7, count: rows)
                    Q8Activations.withBuffers(tokens: 1, blocks: blocks) { a in
                        x.withUnsafeBufferPointer { a.quantize($0.baseAddress!, token: 0) }
                        out.withUnsafeMutableBufferPointer { q8Rows(w, range, a, $0.baseAddress!, path: path) }
                    }
                    for r in 0..<rows where !range.contains(r) { #expect(out[r] == -7, "\(path) wrote row \(r)") }
                    for r in range {
                        Self.expectClose(out[r], Self.reference(w, row: r, q: q[...], d: d[...]),
                                         "\(path) \(rows)x\(blocks) row \(r)")
                    }
                }
            }
        }
    }

    /// Multithreaded row splits give exactly the single-range result (rows are independent).
    @Test(arguments: paths)
    func matvecSplitsEqualOneRange(path: Q8DotPath) {
        let rows = 97, blocks = 7
        let w = Self.rawWeights(rows: rows, blocks: blocks, seed: 3).matrix
        let x = randomFloats(blocks * 32, in: -1...1, seed: 4)
        var split = [Float](repeating: .nan, count: rows), whole = split
        x.withUnsafeBufferPointer { xp in
            split.withUnsafeMutableBufferPointer {
                matvecQ8(weight: w, input: xp.baseAddress!, output: $0.baseAddress!, pool: Self.pool, path: path)
            }
            Q8Activations.withBuffers(tokens: 1, blocks: blocks) { a in
                a.quantize(xp.baseAddress!, token: 0)
                whole.withUnsafeMutableBufferPointer { q8Rows(w, 0..<rows, a, $0.baseAddress!, path: path) }
            }
        }
        #expect(split == whole)
    }

    /// The prefill path (strided input and output, token counts across the 128-token pass)
    /// against the integer reference of each token.
    @Test(arguments: paths)
    func prefillMatchesIntegerReference(path: Q8DotPath) {
        for (rows, blocks, tokens) in [(5, 3, 2), (33, 18, 3), (17, 1, 7), (6, 5, 130)] {
            let w = Self.rawWeights(rows: rows, blocks: blocks, seed: UInt64(rows + tokens)).matrix
            let columns = blocks * 32, inStride = columns + 5, outStride = rows + 3
            let x = randomFloats(tokens * inStride, in: -2...2, seed: UInt64(tokens))
            var out = [Float](repeating: -7, count: tokens * outStride)
            x.withUnsafeBufferPointer { xp in
                out.withUnsafeMutableBufferPointer { op in
                    Q8Matmul.run(weight: w, input: xp.baseAddress!, inputStride: inStride, output: op.baseAddress!,
                                 outputStride: outStride, tokens: tokens, pool: Self.pool, path: path)
                }
            }
            for t in 0..<tokens {
                let (q, d, _, _) = Self.quantize(Array(x[(t * inStride)..<(t * inStride + columns)]), tokens: 1, blocks: blocks)
                for r in 0..<rows {
                    Self.expectClose(out[t * outStride + r], Self.reference(w, row: r, q: q[...], d: d[...]),
                                     "\(path) \(rows)x\(blocks) token \(t) row \(r)")
                }
                for r in rows..<outStride { #expect(out[t * outStride + r] == -7, "wrote past row \(rows)") }
            }
        }
    }

    /// 8-bit activations stay within the rounding bound of float32 activations:
    /// |Σ w·x − Σ w·x̂| ≤ Σ_b d_x/2 · Σ|w| for the dequantized weights w.
    @Test func int8WithinRoundingBoundOfFloat32() {
        let rows = 9, columns = 160
        let w = OwnedWeights(values: randomFloats(rows * columns, seed: 8), rows: rows, columns: columns,
                             dtype: .q8_0).matrix
        let x = randomFloats(3 * columns, in: -4...4, seed: 9)
        let dense = dequantizeAll(w)
        for tokens in [1, 3] {
            var exact = [Float](repeating: 0, count: tokens * rows), rounded = exact
            x.withUnsafeBufferPointer { xp in
                exact.withUnsafeMutableBufferPointer {
                    matmul(weight: w, input: xp.baseAddress!, output: $0.baseAddress!, tokens: tokens,
                           pool: Self.pool, activations: .float32)
                }
                rounded.withUnsafeMutableBufferPointer {
                    matmul(weight: w, input: xp.baseAddress!, output: $0.baseAddress!, tokens: tokens,
                           pool: Self.pool, activations: .int8)
                }
            }
            for t in 0..<tokens {
                let d = Self.quantize(Array(x[(t * columns)..<((t + 1) * columns)]), tokens: 1, blocks: 5).d
                for r in 0..<rows {
                    var bound: Float = 0, magnitude: Float = 0
                    for c in 0..<columns {
                        bound += abs(dense[r * columns + c]) * d[c / 32] / 2
                        magnitude += abs(dense[r * columns + c] * x[t * columns + c])
                    }
                    let error = abs(exact[t * rows + r] - rounded[t * rows + r])
                    #expect(error <= bound * 1.001 + 4e-6 * magnitude, "token \(t) row \(r): \(error) > \(bound)")
                }
            }
        }
    }

    /// Fused q/k/v-style calls with mixed types equal separate `matvec` calls exactly.
    @Test func fusedEqualsSeparateCalls() {
        let columns = 96
        let a = OwnedWeights(values: randomFloats(13 * columns, seed: 1), rows: 13, columns: columns, dtype: .q8_0)
        let b = OwnedWeights(values: randomFloats(7 * columns, seed: 2), rows: 7, columns: columns, dtype: .q4_1)
        let c = OwnedWeights(values: randomFloats(5 * columns, seed: 3), rows: 5, columns: columns, dtype: .q8_0)
        let x = randomFloats(columns, in: -2...2, seed: 4)
        for precision in ActivationPrecision.allCases {
            var separate = [[Float]]()
            var f0 = [Float](repeating: .nan, count: 13), f1 = [Float](repeating: .nan, count: 7)
            var f2 = [Float](repeating: .nan, count: 5)
            x.withUnsafeBufferPointer { xp in
                for m in [a, b, c] {
                    var out = [Float](repeating: .nan, count: m.matrix.rows)
                    out.withUnsafeMutableBufferPointer {
                        matvec(weight: m.matrix, input: xp.baseAddress!, output: $0.baseAddress!, pool: Self.pool,
                               activations: precision)
                    }
                    separate.append(out)
                }
                f0.withUnsafeMutableBufferPointer { o0 in
                    f1.withUnsafeMutableBufferPointer { o1 in
                        f2.withUnsafeMutableBufferPointer { o2 in
                            matvecFused(MatvecTarget(weight: a.matrix, output: o0.baseAddress!),
                                        MatvecTarget(weight: b.matrix, output: o1.baseAddress!),
                                        MatvecTarget(weight: c.matrix, output: o2.baseAddress!),
                                        input: xp.baseAddress!, pool: Self.pool, activations: precision)
                        }
                    }
                }
            }
            let fused = [f0, f1, f2]
            #expect(fused == separate, "\(precision)")
        }
    }

    /// A NaN activation gives NaN outputs (as float32 activations would), not a crash.
    @Test func nonFiniteInputGivesNaN() {
        let w = Self.rawWeights(rows: 3, blocks: 2, seed: 6).matrix
        var x = randomFloats(64, seed: 7)
        x[40] = .nan
        var out = [Float](repeating: 0, count: 3)
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer {
                matvec(weight: w, input: xp.baseAddress!, output: $0.baseAddress!, pool: Self.pool, activations: .int8)
            }
        }
        #expect(out.allSatisfy { $0.isNaN })
    }

    /// This CPU's flags pick the widest supported path (unless TRIDENT_Q8_DOT forces one).
    @Test func currentIsTheWidestSupported() {
        guard ProcessInfo.processInfo.environment["TRIDENT_Q8_DOT"] == nil else { return }
        #expect(Q8DotPath.current == [.avx512VNNI, .avxVNNI, .avx2, .portable].first(where: \.isSupported))
        #expect(Q8DotPath.portable.isSupported)
    }
}
