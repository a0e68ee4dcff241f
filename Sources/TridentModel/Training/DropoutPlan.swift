import TridentKernels

/// Dropout of one micro-batch, drawn so that every layout (TP, DP, micro-batch split) gets the
/// same masks (Megatron's model-parallel RNG, counter-based): a replicated activation draws
/// the same mask on every tensor rank, a sharded one (attention probabilities of this rank's
/// heads) its slice of the one-rank mask.
///
/// Sites of block `layer`: attention probabilities, the attention output and the MLP output
/// (both before their residual add), each with its own stream `CounterRandom.stream(step, layer, site)`.
/// Rows are numbered within the optimizer step: the micro-batch's first row is `firstRow`
/// (`j · L` for the step's `j`-th sequence), so DP replicas and accumulation draw alike.
public struct DropoutPlan: Sendable {
    /// In `[0, 1)`; 0 is no dropout.
    public var probability: Float
    public var random: CounterRandom
    /// The optimizer step (from 1).
    public var step: Int
    /// Row of the step at which this micro-batch starts.
    public var firstRow: Int
    /// This rank's query heads (global indices) and the model's head count.
    public var queryHeads: Range<Int>
    public var totalHeads: Int

    public init(probability: Float, random: CounterRandom, step: Int, firstRow: Int, queryHeads: Range<Int>,
                totalHeads: Int) {
        precondition(probability >= 0 && probability < 1, "dropout probability \(probability) outside [0, 1)")
        self.probability = probability
        self.random = random
        self.step = step
        self.firstRow = firstRow
        self.queryHeads = queryHeads
        self.totalHeads = totalHeads
    }

    /// Where in a block a mask is drawn.
    public enum Site: UInt64, Sendable { case attentionProbabilities = 0, attentionOutput = 1, mlpOutput = 2 }

    func stream(layer: Int, site: Site) -> UInt64 {
        CounterRandom.stream(UInt64(step), UInt64(layer), site.rawValue)
    }

    /// The attention-probability dropout of sequence `sequence` of the pass (length `length`).
    func attention(layer: Int, sequence: Int, length: Int) -> AttentionDropout {
        AttentionDropout(probability: probability, random: random, stream: stream(layer: layer, site: .attentionProbabilities),
                         rowOffset: firstRow + sequence * length, globalHeads: Array(queryHeads), totalHeads: totalHeads)
    }

    /// Applies (or, for the backward, re-applies to the gradient) the hidden-state mask of
    /// `site` to a replicated `[rows, hidden]` buffer, in place.
    func hidden(_ x: ActivationBuffer, layer: Int, site: Site, pool: ThreadPool) {
        Dropout.apply(x.base, out: x.base, rows: x.rows, width: x.columns, columns: 0 ..< x.columns, rowOffset: firstRow,
                      probability: probability, random: random, stream: stream(layer: layer, site: site), pool: pool)
    }
}
