import TridentKernels

/// Causal grouped-query self-attention with this rank's query heads (Megatron's
/// `SelfAttention` with tensor parallelism).
///
/// q, k and v are column-parallel: this rank projects its query heads (an uneven split is
/// fine: 9 heads on 2 ranks are 5 + 4) and every KV head they use, so a KV head whose group
/// straddles two ranks is computed on both. Keys and values go into the KV cache; each query
/// head attends to its KV head (`layout.kvHeadForHead`); the output projection is row-parallel
/// over the heads and ends in the block's all-reduce.
public final class ParallelAttention: Sendable {
    /// `[localHeads * headDim, hidden]`.
    public let query: ColumnParallelLinear
    /// `[localKVHeads * headDim, hidden]`.
    public let key: ColumnParallelLinear
    /// `[localKVHeads * headDim, hidden]`.
    public let value: ColumnParallelLinear
    /// `[hidden, localHeads * headDim]`.
    public let output: RowParallelLinear
    /// This rank's query heads, KV heads and which KV head each query head reads.
    public let layout: AttentionLayout
    /// RoPE frequency base, or nil when positions are learned (no rotation).
    public let ropeTheta: Float?
    /// Which elements RoPE rotates together (how the model's q/k rows are stored).
    public let ropePairing: RopePairing

    /// For training under tensor parallelism: this rank's KV heads by global index, whose K/V
    /// gradients are summed over the ranks holding each (nil: no head is held twice).
    public let sharedKVHeads: SharedHeadRows?

    public init(query: ColumnParallelLinear, key: ColumnParallelLinear, value: ColumnParallelLinear,
                output: RowParallelLinear, layout: AttentionLayout, ropeTheta: Float?,
                ropePairing: RopePairing = .adjacent, sharedKVHeads: SharedHeadRows? = nil) {
        let q = layout.heads * layout.headDim, kv = layout.kvHeads * layout.headDim
        precondition(query.outputSize == q && key.outputSize == kv && value.outputSize == kv
                     && output.inputSize == q && key.inputSize == query.inputSize
                     && value.inputSize == query.inputSize && output.outputSize == query.inputSize,
                     "attention projections do not match \(layout.heads) heads and \(layout.kvHeads) KV heads of \(layout.headDim)")
        self.query = query
        self.key = key
        self.value = value
        self.output = output
        self.layout = layout
        self.ropeTheta = ropeTheta
        self.ropePairing = ropePairing
        self.sharedKVHeads = sharedKVHeads
    }

    /// Runs every chunk of `pass`: appends its keys and values to cache layer `layer` at its
    /// positions, then attends. Every rank of `context.group` must call this, in the same order.
    /// - Parameters:
    ///   - h: `[T, hidden]` normed activations.
    ///   - out: `[T, hidden]` contiguous, receives the attention output (summed over the group).
    /// - Precondition: each chunk fits its cache slot (`KVCache.checkRoom`).
    /// - Returns: `out`.
    @discardableResult
    public func forward(_ h: MatrixView, into out: MatrixView, pass: PassLayout, cache: KVCache, layer: Int,
                        context: InferenceContext) throws -> MatrixView {
        let rows = pass.rows, width = cache.rowWidth
        precondition(h.rows == rows && width == key.outputSize)
        let q = context.innerA.view(rows, query.outputSize)          // [T, heads * hd]
        let attended = context.innerB.view(rows, query.outputSize)   // [T, heads * hd]
        if pass.chunks.count == 1 {
            // K and V go straight into the cache rows of positions start ..< start + T
            // (q, k and v in one fork/join when T = 1).
            let chunk = pass.chunks[0]
            let keys = MatrixView(cache.keys(layer: layer, slot: chunk.slot) + chunk.start * width, rows: rows, columns: width)
            let values = MatrixView(cache.values(layer: layer, slot: chunk.slot) + chunk.start * width,
                                    rows: rows, columns: width)
            ColumnParallelLinear.forwardFused(h, (query, q), (key, keys), (value, values), context: context)
            rotate(q, heads: layout.heads, pass: pass)
            rotate(keys, heads: layout.kvHeads, pass: pass)
        } else {
            query.forward(h, into: q, context: context)
            rotate(q, heads: layout.heads, pass: pass)
            // Several sequences: project every row at once, then copy each chunk's rows into its slot.
            let keys = context.keys.view(rows, width), values = context.values.view(rows, width)  // [T, kvHeads * hd]
            key.forward(h, into: keys, context: context)
            value.forward(h, into: values, context: context)
            rotate(keys, heads: layout.kvHeads, pass: pass)
            for (chunk, first) in zip(pass.chunks, pass.firstRows) {
                let count = chunk.tokens.count * width
                (cache.keys(layer: layer, slot: chunk.slot) + chunk.start * width).update(from: keys.row(first), count: count)
                (cache.values(layer: layer, slot: chunk.slot) + chunk.start * width)
                    .update(from: values.row(first), count: count)
            }
        }
        // Every chunk's K/V is in the cache before any chunk attends (consecutive chunks of one
        // sequence in one pass see each other's keys).
        for (chunk, first) in zip(pass.chunks, pass.firstRows) {
            Attention.causal(queries: q.row(first), keys: cache.keys(layer: layer, slot: chunk.slot),
                             values: cache.values(layer: layer, slot: chunk.slot), output: attended.row(first),
                             tokens: chunk.tokens.count, startPosition: chunk.start, layout: layout, pool: context.pool)
        }
        return try output.forward(attended, into: out, context: context)
    }

    /// RoPE on `[T, heads, headDim]` rows at the pass's positions (nothing with learned positions).
    @inline(__always)
    private func rotate(_ x: MatrixView, heads: Int, pass: PassLayout) {
        guard let ropeTheta else { return }
        VectorKernels.rope(x.base, tokens: x.rows, heads: heads, headDim: layout.headDim, positions: pass.positions,
                           base: ropeTheta, pairing: ropePairing)
    }
}
