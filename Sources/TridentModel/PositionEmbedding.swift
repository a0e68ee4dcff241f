import TridentKernels

/// Learned absolute position embeddings (GPT-2 style), added to the token embeddings.
/// Replicated on every tensor-parallel rank: no communication.
public final class PositionEmbedding: Sendable {
    /// `[maxPositions, hidden]`.
    public let weight: Tensor

    /// The trainable master copy behind `weight` (nil for inference).
    public let weightParameter: TrainingTensor?

    public init(weight: Tensor) {
        self.weight = weight
        weightParameter = nil
    }

    /// A trainable table over `[maxPositions, hidden]` master values.
    public init(training weight: TrainingTensor) {
        self.weight = weight.tensor
        weightParameter = weight
    }

    /// Positions this table covers.
    public var maxPositions: Int { weight.rows }

    /// `x[t] += weight[positions[t]]`.
    /// - Parameters:
    ///   - x: `[T, hidden]`.
    ///   - positions: `[T]`, each below `maxPositions`.
    @discardableResult
    public func forward(_ x: MatrixView, positions: UnsafePointer<Int>) -> MatrixView {
        precondition(x.columns == weight.columns)
        let table = weight.floats
        for t in 0 ..< x.rows {
            let p = positions[t]
            precondition(p >= 0 && p < maxPositions, "position \(p) beyond the \(maxPositions) learned positions")
            VectorKernels.add(x.row(t), table + p * x.columns, out: x.row(t), count: x.columns)
        }
        return x
    }
}
