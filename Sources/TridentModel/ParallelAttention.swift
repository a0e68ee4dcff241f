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
    /// RoPE frequency scaling (Llama 3 per-pair factors, linear); the whole vector on every rank.
    public let ropeScaling: RopeScaling

    /// For training under tensor parallelism: this rank's KV heads by global index, whose K/V
    /// gradients are summed over the ranks holding each (nil: no head is held twice).
    public let sharedKVHeads: SharedHeadRows?

    public init(query: ColumnParallelLinear, key: ColumnParallelLinear, value: ColumnParallelLinear,
                output: RowParallelLinear, layout: AttentionLayout, ropeTheta: Float?,
                ropePairing: RopePairing = .adjacent, ropeScaling: RopeScaling = .none,
                sharedKVHeads: SharedHeadRows? = nil) {
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
        self.ropeScaling = ropeScaling
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
        // One sequence with a float32 cache: K and V go straight into the cache rows of
        // positions start ..< start + T. Otherwise they are projected for every row at once,
        // then each chunk's rows are stored in its slot (rounded to f16 there if so kept).
        let direct = pass.chunks.count == 1 && cache.type == .f32
        let keys: MatrixView, values: MatrixView  // [T, kvHeads * hd]
        if direct {
            let chunk = pass.chunks[0]
            keys = MatrixView(cache.keys(layer: layer, slot: chunk.slot) + chunk.start * width, rows: rows, columns: width)
            values = MatrixView(cache.values(layer: layer, slot: chunk.slot) + chunk.start * width, rows: rows,
                                columns: width)
        } else {
            keys = context.keys.view(rows, width)
            values = context.values.view(rows, width)
        }
        ColumnParallelLinear.forwardFused(h, (query, q), (key, keys), (value, values), context: context)
        rotate(q, heads: layout.heads, pass: pass)
        rotate(keys, heads: layout.kvHeads, pass: pass)
        if !direct {
            for (chunk, first) in zip(pass.chunks, pass.firstRows) {
                cache.store(keys: keys.row(first), values: values.row(first), count: chunk.tokens.count, layer: layer,
                            slot: chunk.slot, start: chunk.start)
            }
        }
        // Every chunk's K/V is in the cache before any chunk attends (consecutive chunks of one
        // sequence in one pass see each other's keys).
        for (chunk, first) in zip(pass.chunks, pass.firstRows) {
            attend(q.row(first), into: attended.row(first), chunk: chunk, cache: cache, layer: layer, context: context)
        }
        return try output.forward(attended, into: out, context: context)
    }

    /// `chunk`'s queries `[tokens, heads * hd]` attend to its slot of cache layer `layer`, with
    /// `context.attentionKernel` (the tiled kernel when `scores` meets an f16 cache).
    private func attend(_ queries: UnsafeMutablePointer<Float>, into output: UnsafeMutablePointer<Float>,
                        chunk: SequenceChunk, cache: KVCache, layer: Int, context: InferenceContext) {
        let tokens = chunk.tokens.count
        var kernel = context.attentionKernel
        if kernel == .scores {
            guard cache.type != .f32 else {
                Attention.causal(queries: queries, keys: cache.keys(layer: layer, slot: chunk.slot),
                                 values: cache.values(layer: layer, slot: chunk.slot), output: output, tokens: tokens,
                                 startPosition: chunk.start, layout: layout, pool: context.pool)
                return
            }
            kernel = AttentionKernel.fastest
        }
        let scratch = context.attention.reserve(Attention.tiledScratchCount(
            tokens: tokens, startPosition: chunk.start, layout: layout, type: cache.type,
            threads: context.pool.threadCount))
        Attention.tiled(queries: queries, keys: cache.cachedKeys(layer: layer, slot: chunk.slot),
                        values: cache.cachedValues(layer: layer, slot: chunk.slot), output: output, tokens: tokens,
                        startPosition: chunk.start, layout: layout, pool: context.pool, scratch: scratch, kernel: kernel)
    }

    /// RoPE on `[T, heads, headDim]` rows at the pass's positions (nothing with learned positions).
    @inline(__always)
    private func rotate(_ x: MatrixView, heads: Int, pass: PassLayout) {
        guard let ropeTheta else { return }
        VectorKernels.rope(x.base, tokens: x.rows, heads: heads, headDim: layout.headDim, positions: pass.positions,
                           base: ropeTheta, pairing: ropePairing, scaling: ropeScaling)
    }
}
