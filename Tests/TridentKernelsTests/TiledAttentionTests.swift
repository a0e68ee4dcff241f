import Testing
@testable import TridentKernels

/// The tiled online-softmax attention (`Attention.tiled`) against the Double reference and the
/// first kernel (`Attention.causal`), on float32 and f16 caches, both lane widths, with and
/// without the pool splitting long contexts into ranges.
@Suite struct TiledAttentionTests {
    static let pools = [ThreadPool(threadCount: 1), ThreadPool(threadCount: 3)]

    static let layouts: [AttentionLayout] = [
        .grouped(heads: 9, kvHeads: 3, headDim: 64),    // SmolLM2
        .grouped(heads: 8, kvHeads: 1, headDim: 17),    // GQA 8, odd head size
        .grouped(heads: 4, kvHeads: 4, headDim: 33),    // no grouping, odd head size
        .grouped(heads: 12, kvHeads: 2, headDim: 7),    // GQA 6, head smaller than a vector
        .grouped(heads: 10, kvHeads: 1, headDim: 24),   // a group larger than OnlineSoftmax.maxGroup
        // An uneven tensor-parallel shard: 5 local heads over 2 local KV heads.
        AttentionLayout(heads: 5, kvHeads: 2, headDim: 16, kvHeadForHead: [0, 0, 0, 1, 1]),
    ]

    /// (tokens, startPosition): decode at context 1, 7, 31, 300 and 2049, then prefill chunks.
    static let shapes = [(1, 0), (1, 6), (1, 30), (1, 299), (1, 2048), (7, 0), (33, 2), (5, 295)]

    /// Random queries `[tokens, heads, hd]`, keys and values `[positions, kvHeads, hd]`.
    static func inputs(_ layout: AttentionLayout, tokens: Int, start: Int) -> (q: [Float], k: [Float], v: [Float]) {
        let positions = start + tokens, d = layout.headDim
        return (randomFloats(tokens * layout.heads * d, in: -2...2, seed: UInt64(7 + d)),
                randomFloats(positions * layout.kvHeads * d, in: -2...2, seed: UInt64(9 + positions)),
                randomFloats(positions * layout.kvHeads * d, seed: UInt64(10 + positions)))
    }

    /// `Attention.tiled` over float32 `k`, `v`.
    static func tiledF32(_ q: [Float], _ k: [Float], _ v: [Float], tokens: Int, start: Int, layout: AttentionLayout,
                         pool: ThreadPool, kernel: AttentionKernel) -> [Float] {
        var out = [Float](repeating: .nan, count: q.count)
        k.withUnsafeBufferPointer { kp in
            v.withUnsafeBufferPointer { vp in
                Attention.tiled(queries: q, keys: CachedRows(kp.baseAddress!), values: CachedRows(vp.baseAddress!),
                                output: &out, tokens: tokens, startPosition: start, layout: layout, pool: pool,
                                kernel: kernel)
            }
        }
        return out
    }

    /// `Attention.tiled` over binary16 `k`, `v`.
    static func tiledF16(_ q: [Float], _ k: [UInt16], _ v: [UInt16], tokens: Int, start: Int,
                         layout: AttentionLayout, pool: ThreadPool, kernel: AttentionKernel) -> [Float] {
        var out = [Float](repeating: .nan, count: q.count)
        k.withUnsafeBufferPointer { kp in
            v.withUnsafeBufferPointer { vp in
                Attention.tiled(queries: q, keys: CachedRows(UnsafeRawPointer(kp.baseAddress!), type: .f16),
                                values: CachedRows(UnsafeRawPointer(vp.baseAddress!), type: .f16), output: &out,
                                tokens: tokens, startPosition: start, layout: layout, pool: pool, kernel: kernel)
            }
        }
        return out
    }

    static func halves(_ x: [Float]) -> [UInt16] {
        var h = [UInt16](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { HalfConversion.narrow($0.baseAddress!, into: &h, count: x.count) }
        return h
    }

    static func widened(_ h: [UInt16]) -> [Float] {
        var x = [Float](repeating: .nan, count: h.count)
        h.withUnsafeBufferPointer { HalfConversion.widen($0.baseAddress!, into: &x, count: h.count) }
        return x
    }

    /// Float32 cache: within 2e-5 of the Double reference (outputs are convex combinations of
    /// values in [-1, 1]) and within 1e-5 of the first kernel, for every lane width and pool.
    @Test(arguments: layouts)
    func float32MatchesReferenceAndFirstKernel(layout: AttentionLayout) {
        for (tokens, start) in Self.shapes {
            let (q, k, v) = Self.inputs(layout, tokens: tokens, start: start)
            let expected = Attention.causalReference(queries: q, keys: k, values: v, tokens: tokens,
                                                     startPosition: start, layout: layout)
            var first = [Float](repeating: .nan, count: q.count)
            Attention.causal(queries: q, keys: k, values: v, output: &first, tokens: tokens, startPosition: start,
                             layout: layout, pool: Self.pools[1])
            for pool in Self.pools {
                for kernel in [AttentionKernel.narrow, .wide] {
                    let out = Self.tiledF32(q, k, v, tokens: tokens, start: start, layout: layout, pool: pool,
                                            kernel: kernel)
                    let what = "tokens \(tokens) start \(start) \(kernel) threads \(pool.threadCount)"
                    #expect(maxAbsDifference(out, expected) < 2e-5, "\(what) vs reference")
                    #expect(maxAbsDifference(out, first) < 1e-5, "\(what) vs Attention.causal")
                }
            }
        }
    }

    /// F16 cache: within 2e-5 of the Double reference on the same (rounded) keys and values;
    /// the rounding itself moves the output by far less than the values' spread.
    @Test(arguments: layouts)
    func float16MatchesReferenceOnRoundedCache(layout: AttentionLayout) {
        for (tokens, start) in Self.shapes {
            let (q, k, v) = Self.inputs(layout, tokens: tokens, start: start)
            let kh = Self.halves(k), vh = Self.halves(v)
            let expected = Attention.causalReference(queries: q, keys: Self.widened(kh), values: Self.widened(vh),
                                                     tokens: tokens, startPosition: start, layout: layout)
            let unrounded = Attention.causalReference(queries: q, keys: k, values: v, tokens: tokens,
                                                      startPosition: start, layout: layout)
            #expect(maxAbsDifference(expected, unrounded) < 5e-3, "f16 rounding effect, tokens \(tokens) start \(start)")
            for pool in Self.pools {
                for kernel in [AttentionKernel.narrow, .wide] {
                    let out = Self.tiledF16(q, kh, vh, tokens: tokens, start: start, layout: layout, pool: pool,
                                            kernel: kernel)
                    #expect(maxAbsDifference(out, expected) < 2e-5,
                            "tokens \(tokens) start \(start) \(kernel) threads \(pool.threadCount)")
                }
            }
        }
    }

    /// Large scores (up to about ±90) stress the running maximum: a later tile holding the
    /// largest score must rescale what came before.
    @Test func risingScoresRescaleEarlierTiles() {
        let layout = AttentionLayout.grouped(heads: 2, kvHeads: 1, headDim: 16)
        let positions = 700
        let q = [Float](repeating: 1, count: 2 * 16)
        // Key p is (p / 30) in every element: scores grow along the context (0 ... 93).
        let k = (0..<positions).flatMap { p in [Float](repeating: Float(p) / 30, count: 16) }
        let v = randomFloats(positions * 16, seed: 5)
        let expected = Attention.causalReference(queries: q, keys: k, values: v, tokens: 1,
                                                 startPosition: positions - 1, layout: layout)
        for pool in Self.pools {
            let out = Self.tiledF32(q, k, v, tokens: 1, start: positions - 1, layout: layout, pool: pool, kernel: .wide)
            #expect(maxAbsDifference(out, expected) < 2e-5, "threads \(pool.threadCount)")
        }
    }

    /// Every position of every token is in exactly one range, and decode on a long context
    /// with few KV heads is split so that each thread gets several items.
    @Test func planCoversEveryPositionOnce() {
        for (tokens, start, kvHeads, threads) in [(1, 2048, 3, 2), (1, 4095, 1, 4), (1, 100, 3, 2), (16, 300, 2, 2),
                                                  (3, 600, 1, 8), (1, 5000, 8, 2)] {
            let plan = TiledAttentionPlan(tokens: tokens, startPosition: start, kvHeads: kvHeads, threads: threads)
            var covered = [[Int]](repeating: [], count: tokens * kvHeads)
            for i in 0..<plan.items {
                let (t, g, s) = plan.item(i)
                let length = start + t + 1
                covered[t * kvHeads + g] += Array(min(length, s * plan.positionsPerSplit)
                                                  ..< min(length, (s + 1) * plan.positionsPerSplit))
            }
            for t in 0..<tokens {
                for g in 0..<kvHeads { #expect(covered[t * kvHeads + g] == Array(0..<(start + t + 1))) }
            }
            #expect(plan.positionsPerSplit % OnlineSoftmax.tile == 0)
            #expect(plan.workers <= plan.items)
        }
        let decode = TiledAttentionPlan(tokens: 1, startPosition: 2047, kvHeads: 3, threads: 2)
        #expect(decode.splits == 6 && decode.items == 18 && decode.workers == 18)
        #expect(TiledAttentionPlan(tokens: 1, startPosition: 2047, kvHeads: 3, threads: 1).splits == 1)
        #expect(TiledAttentionPlan(tokens: 1, startPosition: 127, kvHeads: 3, threads: 2).splits == 1)
    }

    /// `narrow` then `widen` equals the scalar bitwise conversions on every length (vector
    /// bodies and tails) and on special values; the round trip is within half an f16 ulp.
    @Test func halfRowConversionsMatchScalarReference() {
        let specials: [Float] = [0, -0.0, 1, -2, 65504, 65519, 65520, -70000, .infinity, -.infinity,
                                 Float(sign: .plus, exponent: -24, significand: 1), 1e-8, -3e-6, 6.1e-5,
                                 1 + 1.0 / 2048, 1 + 3.0 / 2048]
        for count in [1, 15, 16, 17, 31, 100] {
            let x = Array((specials + randomFloats(count, in: -300...300, seed: UInt64(count))).prefix(count))
            let h = Self.halves(x)
            #expect(h == x.map(HalfConversion.f32ToF16Reference), "narrow, count \(count)")
            #expect(Self.widened(h).map(\.bitPattern) == h.map { HalfConversion.f16ToF32Reference($0).bitPattern },
                    "widen, count \(count)")
            for (value, back) in zip(x, Self.widened(h)) where value.isFinite && abs(value) >= 6.2e-5 && abs(value) <= 65504 {
                #expect(abs(back - value) <= abs(value) * 0x1p-11, "\(value) -> \(back)")
            }
        }
        let nan = Self.halves([.nan, -.nan])
        let nanBack = Self.widened(nan)
        #expect(nanBack[0].isNaN && nanBack[1].isNaN)
    }
}
