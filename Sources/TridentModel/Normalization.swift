import TridentKernels

/// A per-row normalisation layer (`RMSNorm`, `LayerNorm`), replicated on every tensor-parallel
/// rank: no communication.
public protocol Normalization: AnyObject, Sendable {
    /// Width of the rows it normalises.
    var dimension: Int { get }
    /// `out[t] = norm(x[t])` for every row.
    /// - Parameters: x, out: `[T, dimension]`, contiguous (`out` may be `x`).
    /// - Returns: `out`.
    @discardableResult
    func forward(_ x: MatrixView, into out: MatrixView) -> MatrixView

    /// Training forward `y = norm(x)`; the backward reads `x`.
    /// - Parameter x: `[T, dimension]`. - Returns: `[T, dimension]`.
    func trainingForward(_ x: ActivationBuffer, pass: TrainingPass) -> ActivationBuffer
    /// Adds the input gradient onto `dx` (the residual stream's gradient flowing past the norm)
    /// and the parameters' gradients into theirs. Replicated: no communication.
    /// - Parameters: dy, x (the forward input), dx: `[T, dimension]`.
    func backward(_ dy: ActivationBuffer, input x: ActivationBuffer, addingInputGradientTo dx: ActivationBuffer,
                  pass: TrainingPass)
    /// The trainable tensors, in forward order (empty for inference).
    var trainableParameters: [TrainingTensor] { get }
}
