import Testing
@testable import TridentKernels

@Suite struct AttentionTests {
    static let pool = ThreadPool(threadCount: 3)

    static let layouts: [AttentionLayout] = [
        .grouped(heads: 9, kvHeads: 3, headDim: 64),
        .grouped(heads: 2, kvHeads: 2, headDim: 32),
        // An uneven tensor-parallel shard: 5 local heads over 2 local KV heads.
        AttentionLayout(heads: 5, kvHeads: 2, headDim: 16, kvHeadForHead: [0, 0, 0, 1, 1]),
    ]

    @Test(arguments: layouts)
    func matchesReference(layout: AttentionLayout) {
        for (tokens, start) in [(1, 0), (1, 12), (7, 0), (7, 5), (33, 2)] {
            let positions = start + tokens
            let q = randomFloats(tokens * layout.heads * layout.headDim, in: -2...2, seed: 8)
            let k = randomFloats(positions * layout.kvHeads * layout.headDim, in: -2...2, seed: 9)
            let v = randomFloats(positions * layout.kvHeads * layout.headDim, seed: 10)
            var out = [Float](repeating: .nan, count: q.count)
            Attention.causal(queries: q, keys: k, values: v, output: &out, tokens: tokens,
                             startPosition: start, layout: layout, pool: Self.pool)
            let expected = Attention.causalReference(queries: q, keys: k, values: v, tokens: tokens,
                                                     startPosition: start, layout: layout)
            #expect(maxAbsDifference(out, expected) < 2e-5, "tokens \(tokens) start \(start)")
        }
    }

    @Test func firstPositionReturnsItsOwnValue() {
        let layout = AttentionLayout.grouped(heads: 4, kvHeads: 2, headDim: 8)
        let q = randomFloats(32, seed: 1), k = randomFloats(16, seed: 2), v = randomFloats(16, seed: 3)
        var out = [Float](repeating: 0, count: 32)
        Attention.causal(queries: q, keys: k, values: v, output: &out, tokens: 1, startPosition: 0,
                         layout: layout, pool: Self.pool)
        for h in 0..<4 {
            let kv = h / 2
            #expect(Array(out[(h * 8)..<(h * 8 + 8)]) == Array(v[(kv * 8)..<(kv * 8 + 8)]))
        }
    }
}
