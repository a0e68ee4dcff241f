import TridentKernels

/// Root-mean-square normalisation with a learned scale (Llama):
/// `y = x / sqrt(mean(x²) + eps) * weight`.
public final class RMSNorm: Normalization {
    /// `[dimension]`, float32.
    public let weight: Tensor
    public let epsilon: Float

    /// The trainable master copy behind `weight` (nil for inference).
    public let weightParameter: TrainingTensor?

    public init(weight: Tensor, epsilon: Float) {
        precondition(weight.dtype == .f32 && weight.rows == 1, "RMSNorm needs a float32 vector")
        self.weight = weight
        self.epsilon = epsilon
        weightParameter = nil
    }

    /// A trainable norm over a `[dimension]` master weight.
    public init(training weight: TrainingTensor, epsilon: Float) {
        self.weight = weight.tensor
        self.epsilon = epsilon
        weightParameter = weight
    }

    public var dimension: Int { weight.columns }

    @discardableResult
    public func forward(_ x: MatrixView, into out: MatrixView) -> MatrixView {
        precondition(x.columns == dimension && out.columns == dimension && out.rows == x.rows
                     && x.isContiguous && out.isContiguous)
        VectorKernels.rmsNorm(x.base, weight: weight.floats, eps: epsilon, out: out.base, tokens: x.rows, dim: dimension)
        return out
    }
}
