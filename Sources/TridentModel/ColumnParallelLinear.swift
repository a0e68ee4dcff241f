import TridentKernels

/// `y = x Wᵀ + b` with the output features split across the tensor-parallel group: this rank
/// holds rows `W[outputs]` (and `b[outputs]`) and produces those columns of `y`.
///
/// Megatron's `ColumnParallelLinear` without `gather_output`: the input is replicated on every
/// rank (`copyToRegion`, identity forward, all-reduce of `dx` in backward) and the output stays
/// split, to feed a `RowParallelLinear` or per-head work. q/k/v, gate/up and the LM head are
/// column-parallel. The weight may be any `DType` (a quantized view of a mapped file too).
public final class ColumnParallelLinear: Sendable {
    /// `[localOutputs, inputs]`.
    public let weight: Tensor
    /// `[localOutputs]`, or nil.
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

    /// Input features (the full width).
    public var inputSize: Int { weight.columns }
    /// Output features this rank computes.
    public var outputSize: Int { weight.rows }

    /// - Parameters:
    ///   - x: `[T, inputs]` (replicated on every rank).
    ///   - y: `[T, localOutputs]`, written (any row stride: a KV-cache slot, a slice of a wider result).
    /// - Returns: `y`.
    @discardableResult
    public func forward(_ x: MatrixView, into y: MatrixView, context: InferenceContext) -> MatrixView {
        precondition(x.columns == inputSize && y.columns == outputSize && y.rows == x.rows,
                     "column-parallel linear \(outputSize)x\(inputSize): input \(x.rows)x\(x.columns), output \(y.rows)x\(y.columns)")
        TensorParallelMappings.copyToRegion(x.buffer, group: context.group)
        matmul(weight: weight.matrix, input: x.base, output: y.base, tokens: x.rows, pool: context.pool,
               inputStride: x.stride, outputStride: y.stride)
        if let bias { VectorKernels.addBias(y.base, bias: bias.floats, rows: y.rows, columns: y.columns, stride: y.stride) }
        return y
    }
}
