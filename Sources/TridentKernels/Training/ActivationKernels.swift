import Foundation

/// The derivatives of the MLP activations, beside their values (`Activation.callAsFunction`,
/// the same functions the inference kernels apply, so a model trains what it infers):
/// - `silu' = σ(x) · (1 + x · (1 − σ(x)))`;
/// - `gelu` (exact, with `erf`): `gelu' = Φ(x) + x · φ(x)`, `φ(x) = exp(−x²/2) / sqrt(2π)`;
/// - `relu' = 1` for `x > 0`, else 0 (PyTorch's choice at 0);
/// - `geluTanh' = (1 + t)/2 + x (1 − t²) c (1 + 3a x²)/2`, `t = tanh(c (x + a x³))`.
extension Activation {
    static let inverseSquareRootTwoPi: Float = 0.3989422804014327

    /// `act(x)` (the inference function).
    @inline(__always)
    public func value(_ x: Float) -> Float { self(x) }

    /// `d act(x) / dx`.
    @inline(__always)
    public func derivative(_ x: Float) -> Float {
        switch self {
        case .silu:
            let sigmoid = 1 / (1 + expf(-x))
            return sigmoid * (1 + x * (1 - sigmoid))
        case .gelu:
            let cdf = 0.5 * (1 + erff(x * 0.70710678118654752))
            return cdf + x * Self.inverseSquareRootTwoPi * expf(-0.5 * x * x)
        case .relu:
            return x > 0 ? 1 : 0
        case .geluTanh:
            let t = tanhf(Self.tanhScale * (x + Self.tanhCubic * x * x * x))
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * Self.tanhScale * (1 + 3 * Self.tanhCubic * x * x)
        }
    }
}

/// Forward and backward of the MLP activations over f32 buffers of `count` elements
/// (any shape, e.g. `[tokens, intermediate]`), split over the pool in chunks. Gated SiLU runs
/// 16 lanes at a time with `exp16` (within 2 ulp of `expf`; the tail and the other
/// activations use the scalar functions).
public enum ActivationKernels {
    /// Gated: `out = act(gate) · up`; `out` may alias `gate` or `up` (not needed for backward:
    /// the backward takes the saved `gate` and `up`).
    public static func gatedForward(_ activation: Activation, gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
                                    out: UnsafeMutablePointer<Float>, count: Int, pool: ThreadPool) {
        pool.parallelChunks(count, granularity: 1024) { range in
            var i = range.lowerBound
            if activation == .silu {
                while i + 16 <= range.upperBound {
                    let g = load16(gate + i)
                    store16(g / (1 + exp16(-g)) * load16(up + i), out + i)
                    i += 16
                }
            }
            while i < range.upperBound { out[i] = activation.value(gate[i]) * up[i]; i += 1 }
        }
    }

    /// Gated backward: `dGate = dOut · up · act'(gate)`, `dUp = dOut · act(gate)` (overwritten;
    /// either may alias `dOut`, since each element is read before it is written).
    public static func gatedBackward(_ activation: Activation, gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
                                     outputGradient dOut: UnsafePointer<Float>,
                                     gateGradient dGate: UnsafeMutablePointer<Float>,
                                     upGradient dUp: UnsafeMutablePointer<Float>, count: Int, pool: ThreadPool) {
        pool.parallelChunks(count, granularity: 1024) { range in
            var i = range.lowerBound
            if activation == .silu {
                while i + 16 <= range.upperBound {
                    let g = load16(gate + i), d = load16(dOut + i)
                    let denominator = 1 + exp16(-g)
                    let sigmoid = 1 / denominator
                    let gradientGate = d * load16(up + i) * (sigmoid * (1 + g * (1 - sigmoid)))
                    store16(d * (g / denominator), dUp + i)
                    store16(gradientGate, dGate + i)
                    i += 16
                }
            }
            while i < range.upperBound {
                let g = gate[i], u = up[i], d = dOut[i]
                dGate[i] = d * u * activation.derivative(g)
                dUp[i] = d * activation.value(g)
                i += 1
            }
        }
    }

    /// Ungated: `out = act(x)` (`out` may alias `x` only when the backward does not need `x`).
    public static func forward(_ activation: Activation, _ x: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                               count: Int, pool: ThreadPool) {
        pool.parallelChunks(count, granularity: 1024) { range in
            for i in range { out[i] = activation.value(x[i]) }
        }
    }

    /// Ungated backward: `dx = dOut · act'(x)`, with `x` the saved pre-activation; `dx` may alias `dOut`.
    public static func backward(_ activation: Activation, _ x: UnsafePointer<Float>,
                                outputGradient dOut: UnsafePointer<Float>,
                                inputGradient dx: UnsafeMutablePointer<Float>, count: Int, pool: ThreadPool) {
        pool.parallelChunks(count, granularity: 1024) { range in
            for i in range { dx[i] = dOut[i] * activation.derivative(x[i]) }
        }
    }
}
