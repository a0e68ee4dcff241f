import Foundation

/// Straightforward Double-precision references for `VectorKernels` (used by tests).
public enum VectorKernelsReference {
    /// See `VectorKernels.rmsNorm`.
    public static func rmsNorm(_ x: [Float], weight: [Float], eps: Float, tokens: Int, dim: Int) -> [Float] {
        var out = [Float](repeating: 0, count: tokens * dim)
        for t in 0..<tokens {
            var ss: Double = 0
            for i in 0..<dim { ss += Double(x[t * dim + i]) * Double(x[t * dim + i]) }
            let scale = 1 / (ss / Double(dim) + Double(eps)).squareRoot()
            for i in 0..<dim { out[t * dim + i] = Float(Double(x[t * dim + i]) * scale * Double(weight[i])) }
        }
        return out
    }

    /// See `VectorKernels.rope`.
    public static func rope(_ x: [Float], tokens: Int, heads: Int, headDim: Int, positions: [Int],
                            base: Float, pairing: RopePairing = .adjacent, scaling: RopeScaling = .none) -> [Float] {
        var y = x
        let half = headDim / 2
        for t in 0..<tokens {
            for h in 0..<heads {
                for i in 0..<(headDim / 2) {
                    var theta = Double(positions[t]) / Double(scaling.linearFactor)
                        / pow(Double(base), Double(2 * i) / Double(headDim))
                    if let factors = scaling.frequencyFactors { theta /= Double(factors[i]) }
                    let row = (t * heads + h) * headDim
                    let (k, l) = pairing == .adjacent ? (row + 2 * i, row + 2 * i + 1) : (row + i, row + i + half)
                    let a = Double(x[k]), b = Double(x[l])
                    y[k] = Float(a * cos(theta) - b * sin(theta))
                    y[l] = Float(a * sin(theta) + b * cos(theta))
                }
            }
        }
        return y
    }

    /// See `VectorKernels.softmax`.
    public static func softmax(_ x: [Float]) -> [Float] {
        guard let maximum = x.max() else { return [] }
        let e = x.map { exp(Double($0) - Double(maximum)) }
        let sum = e.reduce(0, +)
        return e.map { Float($0 / sum) }
    }

    /// See `VectorKernels.siluMultiply`.
    public static func siluMultiply(gate: [Float], up: [Float]) -> [Float] {
        zip(gate, up).map { g, u in Float(Double(g) / (1 + exp(-Double(g))) * Double(u)) }
    }
}

extension VectorKernelsReference {
    /// See `VectorKernels.layerNorm` (two-pass mean and variance in Double).
    public static func layerNorm(_ x: [Float], weight: [Float], bias: [Float], eps: Float, tokens: Int,
                                 dim: Int) -> [Float] {
        var out = [Float](repeating: 0, count: tokens * dim)
        for t in 0 ..< tokens {
            let row = (0 ..< dim).map { Double(x[t * dim + $0]) }
            let mean = row.reduce(0, +) / Double(dim)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(dim)
            for i in 0 ..< dim {
                out[t * dim + i] = Float((row[i] - mean) / (variance + Double(eps)).squareRoot()
                                         * Double(weight[i]) + Double(bias[i]))
            }
        }
        return out
    }

    /// See `VectorKernels.gatedActivate`.
    public static func gatedActivate(_ activation: Activation, gate: [Float], up: [Float]) -> [Float] {
        zip(gate, up).map { g, u in Float(activation.reference(Double(g)) * Double(u)) }
    }
}
