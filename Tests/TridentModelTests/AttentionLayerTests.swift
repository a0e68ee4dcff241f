import Testing
import TridentKernels
import TridentModel

/// `ParallelAttention` against `Reference.attention` (whole sequences in Double) with the
/// awkward configuration: GQA 10/5 heads, uneven TP 3 split, KV heads duplicated on two ranks.
@Suite("Parallel attention layer")
struct AttentionLayerTests {
    /// Runs the attention of block 0 over `steps` (each a list of (slot, start, rows of `inputs`)
    /// chunks) on every rank. - Returns: per rank, per step, the `[rows, hidden]` output.
    static func run(_ model: RandomTransformer, size: Int, inputs: [[Float]],
                    steps: [[(slot: Int, start: Int, count: Int)]]) throws -> [[[Float]]] {
        let d = model.c.hiddenSize
        return try onTensorRanks(model.c, size: size) { plan, context -> [[Float]] in
            let layer = model.attention(model.blocks[0], plan: plan)
            let cache = KVCache(layerCount: 1, slotCount: inputs.count, capacity: 16, kvHeads: plan.kvHeads.count,
                                headDimension: model.c.headDimension)
            return try steps.map { step in
                let chunks = step.map { SequenceChunk(slot: $0.slot, start: $0.start,
                                                      tokens: Array(repeating: 0, count: $0.count), logits: .none) }
                var h = step.flatMap { inputs[$0.slot][$0.start * d ..< ($0.start + $0.count) * d] }
                let pass = PassLayout(chunks, context: context)
                return try h.withUnsafeMutableBufferPointer { hb in
                    try output(rows: pass.rows, columns: d) { out in
                        try layer.forward(MatrixView(hb.baseAddress!, rows: pass.rows, columns: d), into: out,
                                          pass: pass, cache: cache, layer: 0, context: context)
                    }
                }
            }
        }
    }

    static let variants: [(positions: PositionEncoding, biases: Bool)] = [(.rope, false), (.rope, true), (.learned, true)]

    @Test("prefill then two decode steps equal the reference on every rank (1e-5 relative)",
          arguments: [1, 2, 3], [0, 1, 2])
    func prefillThenDecode(size: Int, variant: Int) throws {
        let (positions, biases) = Self.variants[variant]
        let model = RandomTransformer(awkwardConfiguration(biases: biases, positions: positions), seed: 21)
        let d = model.c.hiddenSize, rows = 7
        let h = randomActivations(rows: rows, width: d, seed: 22)
        let want = Reference.attention(h.map(Double.init), model.blocks[0], model.c)
        let results = try Self.run(model, size: size, inputs: [h],
                                   steps: [[(0, 0, 5)], [(0, 5, 1)], [(0, 6, 1)]])
        for (rank, steps) in results.enumerated() {
            #expect(relativeError(steps.flatMap { $0 }, want) < 1e-5, "rank \(rank) of \(size)")
        }
    }

    @Test("two sequences in one pass each attend only to their own cache slot", arguments: [1, 3])
    func twoSequences(size: Int) throws {
        let model = RandomTransformer(awkwardConfiguration(biases: true), seed: 23)
        let d = model.c.hiddenSize
        let a = randomActivations(rows: 6, width: d, seed: 24), b = randomActivations(rows: 6, width: d, seed: 25)
        let wantA = Reference.attention(a.map(Double.init), model.blocks[0], model.c)
        let wantB = Reference.attention(b.map(Double.init), model.blocks[0], model.c)
        // Step 1: A's first 4 rows and B's first 3; step 2: B's next 3 then A's last 2 (as two chunks).
        let results = try Self.run(model, size: size, inputs: [a, b],
                                   steps: [[(0, 0, 4), (1, 0, 3)], [(1, 3, 3), (0, 4, 2)]])
        for steps in results {
            let gotA = Array(steps[0][..<(4 * d)]) + Array(steps[1][(3 * d)...])
            let gotB = Array(steps[0][(4 * d)...]) + Array(steps[1][..<(3 * d)])
            #expect(relativeError(gotA, wantA) < 1e-5)
            #expect(relativeError(gotB, wantB) < 1e-5)
        }
    }

    @Test("each rank's layout reads the KV heads its query heads use (duplicated where groups straddle)")
    func layouts() throws {
        let c = awkwardConfiguration()
        let plans = try (0 ..< 3).map { try ShardingPlan(configuration: c, tensorParallelSize: 3, rank: $0) }
        #expect(plans.map(\.queryHeads) == [0 ..< 4, 4 ..< 7, 7 ..< 10])
        #expect(plans.map(\.kvHeads) == [0 ..< 2, 2 ..< 4, 3 ..< 5])
        #expect(plans.map { $0.attentionLayout(c).kvHeadForHead } == [[0, 0, 1, 1], [0, 0, 1], [0, 1, 1]])
    }
}
