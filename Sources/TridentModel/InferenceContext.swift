import TridentCollectives
import TridentKernels

/// What an inference forward needs besides a layer's own weights: the tensor-parallel group
/// the layers' mappings communicate over, the compute threads, and activation buffers reused
/// by every step (so a decode step allocates nothing).
///
/// Layers hold weights only; the same layers could run under another context (a training
/// forward keeps its own saved activations instead). One context serves one thread: the
/// scratch buffers are shared by every layer of a stage, whose phases never overlap.
/// Shapes below are per pass, `T` being its rows (tokens).
public final class InferenceContext: @unchecked Sendable {
    /// The tensor-parallel group; every rank of it runs the same layers in the same order.
    public let group: any Communicator
    public let pool: ThreadPool

    /// `[T, hidden]`: the normed input of attention, of the MLP, or of the LM head.
    let normed = ScratchBuffer<Float>()
    /// `[T, hidden]`: output of a row-parallel layer (partial sums, all-reduced in place).
    let partial = ScratchBuffer<Float>()
    /// Attention: `[T, localHeads * headDim]` queries. MLP: `[T, localFFN]` gate, then
    /// `act(gate) * up`. (The two phases never overlap, so they share the memory.)
    let innerA = ScratchBuffer<Float>()
    /// Attention: `[T, localHeads * headDim]` attended values before the output projection.
    /// MLP: `[T, localFFN]` up projection.
    let innerB = ScratchBuffer<Float>()
    /// `[T, localKVHeads * headDim]`: keys and values of a pass over several sequences,
    /// before they are copied into each sequence's cache slot.
    let keys = ScratchBuffer<Float>()
    let values = ScratchBuffer<Float>()
    /// `[T, localVocab]`: this rank's logits slice on a rank that sends it to rank 0.
    let logits = ScratchBuffer<Float>()
    /// `[T]`: positions of the pass's rows.
    let positions = ScratchBuffer<Int>()
    /// Working state of the tiled attention (`Attention.tiledScratchCount` floats).
    let attention = ScratchBuffer<Float>()
    /// Which attention kernel the layers use (tests set `.scores` to compare with the first kernel).
    public var attentionKernel: AttentionKernel = .current
    /// Row-parallel layers of passes of two rows or more compute in two halves of rows, the
    /// first half's all-reduce running while the second is multiplied (nil: blocking).
    public var overlap: TensorParallelOverlap?

    public init(group: any Communicator, pool: ThreadPool) {
        self.group = group
        self.pool = pool
        overlap = group.size > 1 && TensorParallelOverlap.requestedForInference ? TensorParallelOverlap() : nil
    }
}
