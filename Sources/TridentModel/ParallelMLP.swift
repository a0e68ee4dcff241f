import TridentKernels

/// The feed-forward network with its inner features split across the tensor-parallel group
/// (Megatron's `MLP`): column-parallel up (and gate) projections, the activation on this rank's
/// slice, and a row-parallel down projection ending in one all-reduce.
///
/// Gated (`gate` present): `down(act(gate(x)) * up(x))`: SwiGLU for SiLU, GeGLU, ReGLU.
/// Plain two-layer MLP (`gate` nil): `down(act(up(x)))`.
public final class ParallelMLP: Sendable {
    /// `[localFFN, hidden]`, or nil for the plain MLP.
    public let gate: ColumnParallelLinear?
    /// `[localFFN, hidden]`.
    public let up: ColumnParallelLinear
    /// `[hidden, localFFN]`.
    public let down: RowParallelLinear
    public let activation: Activation

    public init(gate: ColumnParallelLinear?, up: ColumnParallelLinear, down: RowParallelLinear,
                activation: Activation) {
        precondition(gate == nil || (gate!.outputSize == up.outputSize && gate!.inputSize == up.inputSize),
                     "gate and up projections differ in shape")
        precondition(down.inputSize == up.outputSize && down.outputSize == up.inputSize,
                     "down projection \(down.outputSize)x\(down.inputSize) does not match up \(up.outputSize)x\(up.inputSize)")
        self.gate = gate
        self.up = up
        self.down = down
        self.activation = activation
    }

    /// Every rank of `context.group` must call this, in the same order.
    /// - Parameters:
    ///   - h: `[T, hidden]` normed activations.
    ///   - out: `[T, hidden]` contiguous, receives the MLP output (summed over the group).
    /// - Returns: `out`.
    @discardableResult
    public func forward(_ h: MatrixView, into out: MatrixView, context: InferenceContext) throws -> MatrixView {
        let width = up.outputSize
        let inner = context.innerA.view(h.rows, width)   // [T, localFFN]
        if let gate {
            let upped = context.innerB.view(h.rows, width)   // [T, localFFN]
            ColumnParallelLinear.forwardFused(h, (gate, inner), (up, upped), context: context)
            // Prompt rows share the activation out over the threads (one decode row is too small to split).
            let (g, u, o, activation) = (UnsafePointer(inner.base), UnsafePointer(upped.base), inner.base, activation)
            context.pool.parallelChunks(inner.count, granularity: max(width, 4096)) { range in
                VectorKernels.gatedActivate(activation, gate: g + range.lowerBound, up: u + range.lowerBound,
                                            out: o + range.lowerBound, count: range.count)
            }
        } else {
            up.forward(h, into: inner, context: context)
            VectorKernels.activate(activation, inner.base, count: inner.count)
        }
        return try down.forward(inner, into: out, context: context)
    }
}
