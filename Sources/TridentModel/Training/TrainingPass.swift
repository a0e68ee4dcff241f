import TridentCollectives
import TridentKernels

/// What a training forward and backward need besides the layers' weights: the tensor group,
/// the compute threads, and how the rows of a micro-batch split into sequences.
///
/// A micro-batch of `sequences` sequences of `sequenceLength` tokens runs as one batch of
/// `rows = sequences * sequenceLength` rows: every linear layer sees all rows, attention runs
/// per sequence (each starting at position 0).
public struct TrainingPass: @unchecked Sendable {
    /// The tensor-parallel group; every rank of it runs the same layers in the same order.
    public let group: any Communicator
    public let pool: ThreadPool
    public let sequences: Int
    public let sequenceLength: Int
    /// `[rows]`: each row's position in its sequence.
    public let positions: [Int]
    /// Dropout masks of this micro-batch, or nil (no dropout).
    public let dropout: DropoutPlan?
    /// Overlap of the tensor group's all-reduces with computation, or nil (each all-reduce
    /// blocks where it is issued).
    public let overlap: TensorParallelOverlap?

    public init(group: any Communicator, pool: ThreadPool, sequences: Int, sequenceLength: Int,
                dropout: DropoutPlan? = nil, overlap: TensorParallelOverlap? = nil) {
        precondition(sequences >= 1 && sequenceLength >= 1)
        self.group = group
        self.pool = pool
        self.sequences = sequences
        self.sequenceLength = sequenceLength
        self.dropout = dropout.flatMap { $0.probability > 0 ? $0 : nil }
        self.overlap = group.size > 1 ? overlap : nil
        positions = (0 ..< sequences).flatMap { _ in 0 ..< sequenceLength }
    }

    /// Rows of the batch.
    public var rows: Int { sequences * sequenceLength }
}
