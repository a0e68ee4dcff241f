import Foundation

/// Element-wise and per-row float32 kernels of a Llama block. All pointers are f32 and
/// may alias only where stated.
public enum VectorKernels {
    /// RMS normalisation of each row: `out[t, i] = x[t, i] / sqrt(mean(x[t]²) + eps) * weight[i]`.
    /// `x`, `out`: `[tokens, dim]` (may be the same buffer); `weight`: `[dim]`.
    public static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, eps: Float,
                               out: UnsafeMutablePointer<Float>, tokens: Int, dim: Int) {
        for t in 0..<tokens {
            let row = x + t * dim
            let o = out + t * dim
            let scale = 1 / (dot(row, row, count: dim) / Float(dim) + eps).squareRoot()
            let s = F8(repeating: scale)
            var i = 0
            while i + 8 <= dim {
                store8(load8(row + i) * s * load8(weight + i), o + i)
                i += 8
            }
            while i < dim {
                o[i] = row[i] * scale * weight[i]
                i += 1
            }
        }
    }

    /// Rotary position embedding, in place: for each token `t`, head, and `i < headDim / 2`,
    /// pair `i` is rotated by angle `positions[t] * base^(-2i / headDim)` (angles computed in
    /// Double), divided by `scaling`'s per-pair factor and linear factor (`RopeScaling`).
    /// `pairing` says which elements form pair `i`: `(x[2i], x[2i+1])` (GGUF llama,
    /// default) or `(x[i], x[i + headDim/2])` (Hugging Face `rotate_half`, GGUF qwen2).
    /// `x`: `[tokens, heads, headDim]`; `positions`: `[tokens]`.
    public static func rope(_ x: UnsafeMutablePointer<Float>, tokens: Int, heads: Int, headDim: Int,
                            positions: UnsafePointer<Int>, base: Float, pairing: RopePairing = .adjacent,
                            scaling: RopeScaling = .none) {
        rotatePairs(x, tokens: tokens, heads: heads, headDim: headDim, positions: positions, base: base, sineSign: 1,
                    pairing: pairing, scaling: scaling)
    }

    /// The rotation behind `rope` and its backward: `sineSign` 1 rotates by the angle, -1 by
    /// its negative (the inverse, since the rotation is orthogonal).
    static func rotatePairs(_ x: UnsafeMutablePointer<Float>, tokens: Int, heads: Int, headDim: Int,
                            positions: UnsafePointer<Int>, base: Float, sineSign: Float,
                            pairing: RopePairing = .adjacent, scaling: RopeScaling = .none) {
        precondition(headDim % 2 == 0, "rope needs an even headDim, got \(headDim)")
        let half = headDim / 2
        let frequencies = scaling.inverseFrequencies(base: base, headDim: headDim)   // [half]
        // Pair i is (x[spread * i], x[spread * i + step]).
        let step = pairing == .adjacent ? 1 : half
        let spread = pairing == .adjacent ? 2 : 1
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * max(half, 1)) { table in
            let cosines = table.baseAddress!
            let sines = cosines + half
            for t in 0..<tokens {
                let position = Double(positions[t])
                for i in 0..<half {
                    let angle = position * frequencies[i]
                    cosines[i] = Float(cos(angle))
                    sines[i] = sineSign * Float(sin(angle))
                }
                for h in 0..<heads {
                    let v = x + (t * heads + h) * headDim
                    for i in 0..<half {
                        let j = spread * i
                        let a = v[j], b = v[j + step]
                        v[j] = a * cosines[i] - b * sines[i]
                        v[j + step] = a * sines[i] + b * cosines[i]
                    }
                }
            }
        }
    }

    /// Softmax of `count` floats in place (max-subtracted; `-inf` entries become 0).
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        if count == 0 { return }
        var maximum = -Float.infinity
        for i in 0..<count { maximum = max(maximum, x[i]) }
        var sum: Float = 0
        for i in 0..<count {
            let e = expf(x[i] - maximum)
            x[i] = e
            sum += e
        }
        scale(x, by: 1 / sum, count: count)
    }

    /// SwiGLU: `out[i] = silu(gate[i]) * up[i]`, `silu(g) = g / (1 + exp(-g))`;
    /// `out` may alias `gate` or `up`.
    public static func siluMultiply(gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
                                    out: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let g = gate[i]
            out[i] = g / (1 + expf(-g)) * up[i]
        }
    }

    /// `out[i] = a[i] + b[i]` (residual add; `out` may alias `a` or `b`).
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                           out: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            store8(load8(a + i) + load8(b + i), out + i)
            i += 8
        }
        while i < count {
            out[i] = a[i] + b[i]
            i += 1
        }
    }

    /// Σ a[i]·b[i].
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        RowDot.f32(a, b, count)
    }

    /// `y[i] += alpha * x[i]`.
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                            count: Int) {
        let a = F8(repeating: alpha)
        var i = 0
        while i + 8 <= count {
            store8(fma8(a, load8(x + i), load8(y + i)), y + i)
            i += 8
        }
        while i < count {
            y[i] += alpha * x[i]
            i += 1
        }
    }

    /// `x[i] *= factor`.
    public static func scale(_ x: UnsafeMutablePointer<Float>, by factor: Float, count: Int) {
        let f = F8(repeating: factor)
        var i = 0
        while i + 8 <= count {
            store8(load8(x + i) * f, x + i)
            i += 8
        }
        while i < count {
            x[i] *= factor
            i += 1
        }
    }
}
