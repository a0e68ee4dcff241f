@_exported import TridentTestSupport
import TridentKernels

/// The shared seeded generator under this suite's older name.
typealias SeededGenerator = TestGenerator

/// Largest |a[i] - b[i]|.
func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// Runs the fast `matmul` and returns `[tokens, rows]`.
func fastMatmul(_ w: WeightMatrix, _ x: [Float], tokens: Int, pool: ThreadPool) -> [Float] {
    var out = [Float](repeating: .nan, count: tokens * w.rows)
    x.withUnsafeBufferPointer { xp in
        out.withUnsafeMutableBufferPointer { op in
            matmul(weight: w, input: xp.baseAddress!, output: op.baseAddress!, tokens: tokens, pool: pool)
        }
    }
    return out
}

/// Runs `matmulReference` and returns `[tokens, rows]`.
func referenceMatmul(_ w: WeightMatrix, _ x: [Float], tokens: Int) -> [Float] {
    var out = [Float](repeating: .nan, count: tokens * w.rows)
    x.withUnsafeBufferPointer { xp in
        out.withUnsafeMutableBufferPointer { op in
            matmulReference(weight: w, input: xp.baseAddress!, output: op.baseAddress!, tokens: tokens)
        }
    }
    return out
}

/// Dequantizes every row of `w` into a `[rows, columns]` array.
func dequantizeAll(_ w: WeightMatrix) -> [Float] {
    var out = [Float](repeating: 0, count: w.rows * w.columns)
    out.withUnsafeMutableBufferPointer { p in
        for r in 0..<w.rows { w.dequantizeRow(r, into: p.baseAddress! + r * w.columns) }
    }
    return out
}

/// The largest error of `fast` against `reference` (both `[tokens, rows]` products of the
/// `[rows, columns]` matrix `dense` with `x`), as a multiple of the bound 2e-6 · Σ|w·x| + 1e-6
/// per element (float32 sums in another order than Double's): at most 1 passes.
func worstProductError(_ fast: [Float], _ reference: [Float], dense: [Float], x: [Float],
                       rows: Int, columns: Int, tokens: Int) -> Float {
    var worst: Float = 0
    for t in 0..<tokens {
        for r in 0..<rows {
            var magnitude: Float = 0
            for c in 0..<columns { magnitude += abs(dense[r * columns + c] * x[t * columns + c]) }
            worst = max(worst, abs(fast[t * rows + r] - reference[t * rows + r]) / (2e-6 * magnitude + 1e-6))
        }
    }
    return worst
}
