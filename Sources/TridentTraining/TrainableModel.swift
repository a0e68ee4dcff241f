import TridentCollectives

/// One trainable tensor of one rank: its float32 master values and the gradient accumulated
/// into it, with what the optimizer, the clipping and a checkpoint need to know about it.
///
/// The model owns both buffers for its lifetime; the session reads and updates them in place
/// between steps (never while a forward or backward runs).
public final class TrainableParameter: @unchecked Sendable {
    /// The GGUF tensor name (`blk.3.attn_q.weight`); a tied embedding is one parameter.
    public let name: String
    /// The full tensor's shape, row-major (`[rows, columns]` for a matrix, `[n]` for a vector).
    public let globalShape: [Int]
    /// Which part of the full tensor this rank holds: rows of the row-major full tensor
    /// (`shardRows`, nil = all rows) and columns (`shardColumns`, nil = all columns).
    /// Column-parallel weights hold a row range, row-parallel weights a column range.
    public let shardRows: Range<Int>?
    public let shardColumns: Range<Int>?
    /// `[local elements]` master weights (float32).
    public let values: UnsafeMutableBufferPointer<Float>
    /// `[local elements]` accumulated gradient, same layout as `values`.
    public let gradient: UnsafeMutableBufferPointer<Float>
    /// Whether AdamW's decoupled weight decay applies (matrices and embeddings; not norms or biases).
    public let decay: Bool
    /// How the gradient-norm reduction counts this buffer across the tensor group.
    public let sharing: GradientSharing

    public init(name: String, globalShape: [Int], shardRows: Range<Int>? = nil, shardColumns: Range<Int>? = nil,
                values: UnsafeMutableBufferPointer<Float>, gradient: UnsafeMutableBufferPointer<Float>,
                decay: Bool, sharing: GradientSharing) {
        precondition(values.count == gradient.count, "parameter \(name): values and gradient differ in size")
        self.name = name
        self.globalShape = globalShape
        self.shardRows = shardRows
        self.shardColumns = shardColumns
        self.values = values
        self.gradient = gradient
        self.decay = decay
        self.sharing = sharing
    }
}

/// What a training session needs from a model shard: its parameters, and forward + backward
/// over a micro-batch that accumulates gradients.
///
/// Every rank of the model's tensor group must call `accumulateGradients` with the same
/// sequences, in the same order (the tensor-parallel layers communicate inside it).
public protocol TrainableModel: AnyObject {
    /// This rank's parameters, in the order of their first use in the forward pass.
    var parameters: [TrainableParameter] { get }

    /// Called during backward with a parameter's index in `parameters` as soon as its
    /// gradient for the current micro-batch is final (so a data-parallel bucket holding it
    /// can start its all-reduce). Set by the session; nil means nobody listens.
    var gradientReady: ((Int) -> Void)? { get set }

    /// Forward and backward over `sequences` (each `L + 1` token ids: inputs are the first L,
    /// targets the last L), adding each parameter's gradient of
    /// `sum over these targets of cross-entropy / denominator` into `parameter.gradient`.
    /// - Parameter denominator: the target count of the whole optimizer step (every micro-batch
    ///   and replica), so accumulated gradients are those of the step's mean loss.
    /// - Returns: the summed (not averaged) loss over these sequences' targets and their count.
    func accumulateGradients(sequences: [[Int32]], denominator: Int) throws -> (lossSum: Double, targets: Int)

    /// Bytes of activations the last `accumulateGradients` kept for its backward (0: not counted).
    var lastSavedActivationBytes: Int { get }
}

extension TrainableModel {
    public var lastSavedActivationBytes: Int { 0 }

    /// Sets every gradient to zero (before a step's first micro-batch).
    public func zeroGradients() {
        for parameter in parameters { parameter.gradient.update(repeating: 0) }
    }
}
