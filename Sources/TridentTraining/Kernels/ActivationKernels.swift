import Foundation
import TridentKernels

/// MLP activation functions with their derivatives.
///
/// - `silu(x) = x · σ(x)` (as `VectorKernels.siluMultiply`), `silu' = σ(x) · (1 + x · (1 − σ(x)))`.
/// - `gelu`: the tanh approximation (`torch.nn.functional.gelu(x, approximate="tanh")`,
///   GPT-2's `gelu_new`): `0.5 · x · (1 + tanh(c · (x + 0.044715 · x³)))`, `c = sqrt(2/π)`.
/// - `relu(x) = max(x, 0)`, derivative 1 for `x > 0`, else 0 (PyTorch's choice at 0).
public enum Activation: String, Sendable, Hashable, CaseIterable, Codable {
    case silu, gelu, relu

    static let geluScale: Float = 0.7978845608028654  // sqrt(2 / π)
    static let geluCubic: Float = 0.044715

    /// `act(x)`.
    @inline(__always)
    public func value(_ x: Float) -> Float {
        switch self {
        case .silu: return x / (1 + expf(-x))
        case .gelu: return 0.5 * x * (1 + tanhf(Self.geluScale * (x + Self.geluCubic * x * x * x)))
        case .relu: return x > 0 ? x : 0
        }
    }

    /// `d act(x) / dx`.
    @inline(__always)
    public func derivative(_ x: Float) -> Float {
        switch self {
        case .silu:
            let sigmoid = 1 / (1 + expf(-x))
            return sigmoid * (1 + x * (1 - sigmoid))
        case .gelu:
            let inner = Self.geluScale * (x + Self.geluCubic * x * x * x)
            let th = tanhf(inner)
            let dInner = Self.geluScale * (1 + 3 * Self.geluCubic * x * x)
            return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * dInner
        case .relu:
            return x > 0 ? 1 : 0
        }
    }
}

/// Forward and backward of the MLP activations over f32 buffers of `count` elements
/// (any shape, e.g. `[tokens, intermediate]`), split over the pool in chunks.
public enum ActivationKernels {
    /// Gated: `out = act(gate) · up`; `out` may alias `gate` or `up` (not needed for backward:
    /// the backward takes the saved `gate` and `up`).
    public static func gatedForward(_ activation: Activation, gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
                                    out: UnsafeMutablePointer<Float>, count: Int, pool: ThreadPool) {
        pool.parallelChunks(count, granularity: 1024) { range in
            for i in range { out[i] = activation.value(gate[i]) * up[i] }
        }
    }

    /// Gated backward: `dGate = dOut · up · act'(gate)`, `dUp = dOut · act(gate)` (overwritten;
    /// either may alias `dOut`, since each element is read before it is written).
    public static func gatedBackward(_ activation: Activation, gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
                                     outputGradient dOut: UnsafePointer<Float>,
                                     gateGradient dGate: UnsafeMutablePointer<Float>,
                                     upGradient dUp: UnsafeMutablePointer<Float>, count: Int, pool: ThreadPool) {
        pool.parallelChunks(count, granularity: 1024) { range in
            for i in range {
                let g = gate[i], u = up[i], d = dOut[i]
                dGate[i] = d * u * activation.derivative(g)
                dUp[i] = d * activation.value(g)
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
