import TridentKernels

/// `y = x Wᵀ + b` with the input features split across the tensor-parallel group: this rank
/// holds columns `W[:, inputs]` (cut at quantization-block boundaries, or kept as float32 when a
/// cut falls inside a block) and multiplies its slice of `x`; the partial products are summed by
/// one all-reduce (`reduceFromRegion`; identity in backward).
///
/// Megatron's `RowParallelLinear` with `input_is_parallel`: it follows a column-parallel layer
/// or per-head work. The bias is replicated and added once, after the sum.
public final class RowParallelLinear: Sendable {
    /// `[outputs, localInputs]`.
    public let weight: Tensor
    /// `[outputs]` (the same on every rank), or nil.
    public let bias: Tensor?

    /// The trainable master copies behind `weight` and `bias` (nil for inference).
    public let weightParameter: TrainingTensor?
    public let biasParameter: TrainingTensor?

    public init(weight: Tensor, bias: Tensor? = nil) {
        precondition(bias == nil || bias!.count == weight.rows,
                     "bias of \(bias?.count ?? 0) for \(weight.rows) output rows")
        self.weight = weight
        self.bias = bias
        weightParameter = nil
        biasParameter = nil
    }

    /// A trainable layer over float32 master weights `[rows, columns]` (and bias `[rows]`).
    public init(training weight: TrainingTensor, bias: TrainingTensor? = nil) {
        precondition(bias == nil || bias!.count == weight.rows,
                     "bias of \(bias?.count ?? 0) for \(weight.rows) output rows")
        self.weight = weight.tensor
        self.bias = bias?.tensor
        weightParameter = weight
        biasParameter = bias
    }

    /// Input features this rank holds.
    public var inputSize: Int { weight.columns }
    /// Output features (the full width).
    public var outputSize: Int { weight.rows }

    /// Every rank of `context.group` must call this, in the same order. With `context.overlap`
    /// (and two rows or more) the rows are multiplied in two halves, the first half's
    /// all-reduce running while the second is multiplied.
    /// - Parameters:
    ///   - x: `[T, localInputs]`, this rank's slice of the input.
    ///   - y: `[T, outputs]` contiguous, receives the full result on every rank.
    /// - Returns: `y`.
    /// - Throws: the group's collective errors.
    @discardableResult
    public func forward(_ x: MatrixView, into y: MatrixView, context: InferenceContext) throws -> MatrixView {
        precondition(x.columns == inputSize && y.columns == outputSize && y.rows == x.rows,
                     "row-parallel linear \(outputSize)x\(inputSize): input \(x.rows)x\(x.columns), output \(y.rows)x\(y.columns)")
        if let overlap = context.overlap, x.rows >= 2, y.stride == outputSize {
            try overlap.computeAndReduceInHalves(rows: y.rows, columns: outputSize, output: y.buffer,
                                                 group: context.group) { half in
                matmul(weight: weight.matrix, input: x.base + half.lowerBound * x.stride,
                       output: y.base + half.lowerBound * y.stride, tokens: half.count, pool: context.pool,
                       inputStride: x.stride, outputStride: y.stride)
            }
        } else {
            matmul(weight: weight.matrix, input: x.base, output: y.base, tokens: x.rows, pool: context.pool,
                   inputStride: x.stride, outputStride: y.stride)
            try TensorParallelMappings.reduceFromRegion(y.buffer, group: context.group)
        }
        if let bias { VectorKernels.addBias(y.base, bias: bias.floats, rows: y.rows, columns: y.columns) }
        return y
    }
}
