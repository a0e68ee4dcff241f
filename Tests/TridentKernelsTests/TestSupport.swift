import TridentKernels

/// Deterministic SplitMix64 generator so failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// `count` uniform floats in `range`.
func randomFloats(_ count: Int, in range: ClosedRange<Float> = -1...1, seed: UInt64) -> [Float] {
    var rng = SeededGenerator(seed: seed)
    return (0..<count).map { _ in Float.random(in: range, using: &rng) }
}

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
