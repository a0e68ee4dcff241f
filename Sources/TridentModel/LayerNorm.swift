import TridentKernels

/// Layer normalisation with a learned scale and shift (GPT-2, the seed's own models):
/// `y = (x - mean(x)) / sqrt(var(x) + eps) * weight + bias`.
public final class LayerNorm: Normalization {
    /// `[dimension]`, float32.
    public let weight: Tensor
    /// `[dimension]`, float32.
    public let bias: Tensor
    public let epsilon: Float

    public init(weight: Tensor, bias: Tensor, epsilon: Float) {
        precondition(weight.dtype == .f32 && bias.dtype == .f32 && weight.rows == 1 && bias.rows == 1
                     && weight.columns == bias.columns, "LayerNorm needs float32 weight and bias vectors of one width")
        self.weight = weight
        self.bias = bias
        self.epsilon = epsilon
        weightParameter = nil
        biasParameter = nil
    }

    /// The trainable master copies behind `weight` and `bias` (nil for inference).
    public let weightParameter: TrainingTensor?
    public let biasParameter: TrainingTensor?

    /// A trainable norm over `[dimension]` master weight and bias.
    public init(training weight: TrainingTensor, bias: TrainingTensor, epsilon: Float) {
        precondition(weight.count == bias.count, "LayerNorm weight and bias differ in width")
        self.weight = weight.tensor
        self.bias = bias.tensor
        self.epsilon = epsilon
        weightParameter = weight
        biasParameter = bias
    }

    public var dimension: Int { weight.columns }

    @discardableResult
    public func forward(_ x: MatrixView, into out: MatrixView) -> MatrixView {
        precondition(x.columns == dimension && out.columns == dimension && out.rows == x.rows
                     && x.isContiguous && out.isContiguous)
        VectorKernels.layerNorm(x.base, weight: weight.floats, bias: bias.floats, eps: epsilon, out: out.base,
                                tokens: x.rows, dim: dimension)
        return out
    }
}
