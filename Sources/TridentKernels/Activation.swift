import Foundation

/// The non-linearity of an MLP: SiLU (Llama's SwiGLU), GELU (exact, with `erf`), GELU's tanh
/// approximation (GPT-2, ggml's `gelu`), or ReLU. Raw values are the configuration spellings
/// (`"silu"`, `"gelu"`, `"gelu_pytorch_tanh"`, `"relu"`).
public enum Activation: String, Codable, Sendable, CaseIterable {
    case silu, gelu, relu
    /// `0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³)))`.
    case geluTanh = "gelu_pytorch_tanh"

    /// `sqrt(2/π)`, and the cubic coefficient of the tanh approximation.
    static let tanhScale: Float = 0.7978845608028654, tanhCubic: Float = 0.044715

    /// The function at one point, in float32.
    @inline(__always)
    public func callAsFunction(_ x: Float) -> Float {
        switch self {
        case .silu: return x / (1 + expf(-x))
        case .gelu: return 0.5 * x * (1 + erff(x * 0.70710678118654752))
        case .relu: return max(x, 0)
        case .geluTanh: return 0.5 * x * (1 + tanhf(Self.tanhScale * (x + Self.tanhCubic * x * x * x)))
        }
    }

    /// The function at one point, in double precision (references in tests).
    public func reference(_ x: Double) -> Double {
        switch self {
        case .silu: return x / (1 + exp(-x))
        case .gelu: return 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
        case .relu: return max(x, 0)
        case .geluTanh: return 0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
        }
    }
}

extension VectorKernels {
    /// `x[i] = activation(x[i])`, in place (the plain two-layer MLP). `x`: `count` floats.
    public static func activate(_ activation: Activation, _ x: UnsafeMutablePointer<Float>, count: Int) {
        switch activation {
        case .silu: for i in 0 ..< count { x[i] = x[i] / (1 + expf(-x[i])) }
        case .gelu: for i in 0 ..< count { x[i] = 0.5 * x[i] * (1 + erff(x[i] * 0.70710678118654752)) }
        case .relu: for i in 0 ..< count { x[i] = max(x[i], 0) }
        case .geluTanh: for i in 0 ..< count { x[i] = activation(x[i]) }
        }
    }

    /// Gated linear unit: `out[i] = activation(gate[i]) * up[i]` (SwiGLU for `.silu`, GeGLU for
    /// `.gelu`, ReGLU for `.relu`); `out` may alias `gate` or `up`. All `count` floats.
    public static func gatedActivate(_ activation: Activation, gate: UnsafePointer<Float>,
                                     up: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, count: Int) {
        switch activation {
        case .silu: siluMultiply(gate: gate, up: up, out: out, count: count)
        case .gelu:
            for i in 0 ..< count { out[i] = 0.5 * gate[i] * (1 + erff(gate[i] * 0.70710678118654752)) * up[i] }
        case .relu: for i in 0 ..< count { out[i] = max(gate[i], 0) * up[i] }
        case .geluTanh: for i in 0 ..< count { out[i] = activation(gate[i]) * up[i] }
        }
    }
}
