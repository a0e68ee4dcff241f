/// How `Attention.tiled` divides one call into work items: (token, KV head, range of
/// positions), each attending every query head of that KV head to its range.
///
/// Decode has one token and few KV heads (SmolLM2: 3), too few items to keep the threads
/// busy over a long context, so each KV head's positions are then split into ranges of at
/// least `minimumSplit` positions whose partial states are combined afterwards
/// (`OnlineSoftmax.combine`). A prefill pass has items enough and is not split.
struct TiledAttentionPlan {
    /// Fewest positions worth a range of their own.
    static let minimumSplit = 256
    /// Items per thread a split aims at (the pool hands them out as threads come free, so a
    /// thread slowed by another process takes fewer).
    static let itemsPerThread = 8

    let tokens: Int
    let kvHeads: Int
    /// Ranges per (token, KV head).
    let splits: Int
    /// Positions per range (a multiple of the tile), the last range of a token may be shorter.
    let positionsPerSplit: Int
    /// Pool bodies; body `w` runs items `w, w + workers, ...`, with its own scratch.
    let workers: Int

    init(tokens: Int, startPosition: Int, kvHeads: Int, threads: Int) {
        self.tokens = tokens
        self.kvHeads = kvHeads
        let longest = startPosition + tokens
        let pairs = tokens * kvHeads
        let wanted = threads > 1 ? (Self.itemsPerThread * threads + pairs - 1) / pairs : 1
        splits = max(1, min(wanted, longest / Self.minimumSplit))
        let tile = OnlineSoftmax.tile
        positionsPerSplit = ((longest + splits - 1) / splits + tile - 1) / tile * tile
        // A split call has one body per item (fewer than `itemsPerThread * threads + pairs`).
        workers = threads == 1 ? 1 : splits > 1 ? pairs * splits : min(pairs, Self.itemsPerThread * threads)
    }

    var items: Int { tokens * kvHeads * splits }

    /// Item `i` as (token, KV head, range index); the longest tokens come first, so that the
    /// last items handed out are short.
    @inline(__always)
    func item(_ i: Int) -> (token: Int, kvHead: Int, split: Int) {
        let split = i % splits, pair = i / splits
        return (tokens - 1 - pair / kvHeads, pair % kvHeads, split)
    }
}

extension Attention {
    /// Floats of scratch `tiled` needs for these arguments.
    public static func tiledScratchCount(tokens: Int, startPosition: Int, layout: AttentionLayout, type: KVCacheType,
                                         threads: Int) -> Int {
        let plan = TiledAttentionPlan(tokens: tokens, startPosition: startPosition, kvHeads: layout.kvHeads,
                                      threads: threads)
        let partials = plan.splits > 1 ? tokens * layout.heads * plan.splits * (layout.headDim + 2) : 0
        return plan.workers * OnlineSoftmax.scratchCount(headDim: layout.headDim, type: type) + partials
    }

    /// Causal grouped-query attention over a float32 or f16 cache with a tiled online softmax
    /// (flash-decoding): the same result as `causal` up to float32 rounding, but each item
    /// streams its KV head's keys and values once for all the query heads that share it, and
    /// long decode contexts are split into ranges over the threads.
    ///
    /// - Parameters:
    ///   - queries: `[tokens, heads, headDim]` f32 (RoPE already applied); query `t` is at
    ///     position `startPosition + t` and attends to positions `0 ... startPosition + t`.
    ///   - keys, values: `[positions, kvHeads, headDim]` of `keys.type`, holding at least
    ///     `startPosition + tokens` positions (this step's included).
    ///   - output: `[tokens, heads, headDim]` f32; must not alias the inputs.
    ///   - scratch: `tiledScratchCount(...)` floats, with `threads` = `pool.threadCount`.
    ///   - kernel: `.wide` (16 lanes) or `.narrow` (8 lanes).
    public static func tiled(queries: UnsafePointer<Float>, keys: CachedRows, values: CachedRows,
                             output: UnsafeMutablePointer<Float>, tokens: Int, startPosition: Int,
                             layout: AttentionLayout, pool: ThreadPool, scratch: UnsafeMutablePointer<Float>,
                             kernel: AttentionKernel = .current) {
        precondition(tokens >= 0 && startPosition >= 0 && keys.type == values.type)
        precondition(kernel != .scores, "the scores kernel is Attention.causal")
        if tokens == 0 { return }
        let plan = TiledAttentionPlan(tokens: tokens, startPosition: startPosition, kvHeads: layout.kvHeads,
                                      threads: pool.threadCount)
        let perWorker = OnlineSoftmax.scratchCount(headDim: layout.headDim, type: keys.type)
        let partials = scratch + plan.workers * perWorker   // [tokens, heads, splits, headDim + 2]
        let runner = TiledAttentionRun(queries: queries, keys: keys, values: values, output: output,
                                       startPosition: startPosition, layout: layout, plan: plan, partials: partials)
        layout.kvHeadForHead.withUnsafeBufferPointer { table in
            pool.parallelFor(plan.workers) { w in
                let state = OnlineSoftmax(scratch: scratch + w * perWorker, headDim: layout.headDim)
                var i = w
                while i < plan.items {
                    if kernel == .wide { runner.run(WideLanes.self, item: i, state: state, table: table) }
                    else { runner.run(NarrowLanes.self, item: i, state: state, table: table) }
                    i += plan.workers
                }
            }
        }
        guard plan.splits > 1 else { return }
        let stride = layout.headDim + 2
        for row in 0..<(tokens * layout.heads) {
            OnlineSoftmax.combine(partials + row * plan.splits * stride, count: plan.splits, stride: stride,
                                  headDim: layout.headDim, into: output + row * layout.headDim)
        }
    }

    /// `tiled` with its scratch allocated here (tests and one-off calls).
    public static func tiled(queries: [Float], keys: CachedRows, values: CachedRows, output: inout [Float],
                             tokens: Int, startPosition: Int, layout: AttentionLayout, pool: ThreadPool,
                             kernel: AttentionKernel = .current) {
        precondition(queries.count == tokens * layout.heads * layout.headDim && output.count == queries.count)
        var scratch = [Float](repeating: 0, count: tiledScratchCount(
            tokens: tokens, startPosition: startPosition, layout: layout, type: keys.type, threads: pool.threadCount))
        scratch.withUnsafeMutableBufferPointer { s in
            output.withUnsafeMutableBufferPointer { out in
                tiled(queries: queries, keys: keys, values: values, output: out.baseAddress!, tokens: tokens,
                      startPosition: startPosition, layout: layout, pool: pool, scratch: s.baseAddress!, kernel: kernel)
            }
        }
    }
}

/// One call of `Attention.tiled`: runs its work items.
private struct TiledAttentionRun {
    let queries: UnsafePointer<Float>
    let keys: CachedRows
    let values: CachedRows
    let output: UnsafeMutablePointer<Float>
    let startPosition: Int
    let layout: AttentionLayout
    let plan: TiledAttentionPlan
    let partials: UnsafeMutablePointer<Float>

    /// Item `i`: every query head of its KV head (in groups of `OnlineSoftmax.maxGroup`)
    /// over its range; writes the output, or with several ranges the partial states.
    @inline(__always)
    func run<L: AttentionLanes>(_ lanes: L.Type, item i: Int, state: OnlineSoftmax, table: UnsafeBufferPointer<Int>) {
        let (t, g, s) = plan.item(i)
        let d = layout.headDim, heads = layout.heads
        let length = startPosition + t + 1
        let range = min(length, s * plan.positionsPerSplit) ..< min(length, (s + 1) * plan.positionsPerSplit)
        let problem = AttentionProblem(queries: queries + t * heads * d, keys: keys.advanced(by: g * d),
                                       values: values.advanced(by: g * d), stride: layout.kvHeads * d, headDim: d,
                                       scale: 1 / Float(d).squareRoot())
        withUnsafeTemporaryAllocation(of: Int.self, capacity: OnlineSoftmax.maxGroup) { group in
            var h = 0
            while h < heads {
                var count = 0
                while h < heads && count < OnlineSoftmax.maxGroup {
                    if table[h] == g { group[count] = h; count += 1 }
                    h += 1
                }
                guard count > 0 else { continue }
                if range.isEmpty {
                    state.maxima.update(repeating: -.infinity, count: count)
                    state.sums.update(repeating: 0, count: count)
                    state.accumulators.update(repeating: 0, count: count * d)
                } else {
                    state.attend(L.self, problem, heads: group.baseAddress!, count: count, positions: range)
                }
                for k in 0..<count {
                    let row = t * heads + group[k]
                    if plan.splits == 1 {
                        state.write(head: k, to: output + row * d)
                    } else {
                        state.save(head: k, to: partials + (row * plan.splits + s) * (d + 2))
                    }
                }
            }
        }
    }
}
