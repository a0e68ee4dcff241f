import Testing
import TridentCollectives
import TridentKernels
import TridentModel

/// The vocabulary-parallel embedding, learned positions and the LM head (both gathers) against
/// plain lookups and `Reference` products, on 1 to 3 ranks (23 vocabulary rows: 8 + 8 + 7).
@Suite("Embedding and LM head layers")
struct EmbeddingAndHeadTests {
    static let tokens: [Int32] = [0, 22, 7, 8, 15, 16, 3]

    @Test("the vocabulary-parallel lookup equals the table's rows on every rank", arguments: [1, 2, 3])
    func embedding(size: Int) throws {
        let model = RandomTransformer(awkwardConfiguration())
        let d = model.c.hiddenSize
        let want = Self.tokens.flatMap { id in model.embedding[Int(id) * d ..< (Int(id) + 1) * d] }
        let results = try onTensorRanks(model.c, size: size) { plan, context -> [Float] in
            let layer = model.modules(plan: plan, layers: 0 ..< 0, last: false).embedding!
            return try output(rows: Self.tokens.count, columns: d) { x in
                try layer.forward(Self.tokens, into: x, context: context)
            }
        }
        for (rank, got) in results.enumerated() { #expect(got == want, "rank \(rank) of \(size)") }
    }

    @Test("learned positions add the row of each position")
    func positions() {
        var random = SeededRandom(seed: 3)
        let table = random.floats(6 * 5), start = random.floats(3 * 5)
        let layer = PositionEmbedding(weight: RandomTransformer.matrix(table, rows: 6))
        let positions = [4, 0, 5]
        var x = start
        let got = withView(&x, columns: 5) { view in
            positions.withUnsafeBufferPointer { _ = layer.forward(view, positions: $0.baseAddress!) }
        }
        let want = (0 ..< 15).map { (i: Int) -> Float in start[i] + table[positions[i / 5] * 5 + i % 5] }
        #expect(got == want)
    }

    /// The head's logits on every rank, for `rows` random final activations.
    static func head(size: Int, receivers: LogitsReceivers, tied: Bool, rows: Int) throws -> (want: [Double], got: [[Float]]) {
        let model = RandomTransformer(awkwardConfiguration(normalization: .layer, tied: tied))
        let d = model.c.hiddenSize
        let x = randomActivations(rows: rows, width: d, seed: 5)
        let normed = Reference.norm(x.map(Double.init), model.finalNorm, eps: model.c.rmsNormEpsilon)
        let want = Reference.linear(normed, model.output ?? model.embedding, nil, inputs: d)
        let got = try onTensorRanks(model.c, size: size) { plan, context -> [Float] in
            let head = model.modules(plan: plan, layers: 0 ..< 0, first: false).head!
            var input = x
            return try input.withUnsafeMutableBufferPointer {
                try head.forward(MatrixView($0.baseAddress!, rows: rows, columns: d), receivers: receivers,
                                 context: context)
            }
        }
        return (want, got)
    }

    @Test("LM head gathered on every rank equals norm then x Wᵀ (1e-5 relative)", arguments: [1, 2, 3], [false, true])
    func headEveryRank(size: Int, tied: Bool) throws {
        for rows in [1, 4] {
            let (want, got) = try Self.head(size: size, receivers: .everyRank, tied: tied, rows: rows)
            for (rank, logits) in got.enumerated() { #expect(relativeError(logits, want) < 1e-5, "rank \(rank)") }
        }
    }

    @Test("gatherToFirstRank gives rank 0 the logits and the others nothing", arguments: [2, 3])
    func headFirstRank(size: Int) throws {
        for rows in [1, 4] {
            let (want, got) = try Self.head(size: size, receivers: .firstRank, tied: false, rows: rows)
            #expect(relativeError(got[0], want) < 1e-5, "\(rows) rows")
            let others = got.dropFirst().map(\.count)
            #expect(others.allSatisfy { $0 == 0 })
        }
    }

    @Test("gatherToFirstRank with uneven widths fills each rank's columns", arguments: [[5, 4], [3, 1, 2], [2, 2, 1, 1]])
    func gatherUneven(widths: [Int]) throws {
        let rows = 3, total = widths.reduce(0, +)
        let full = (0 ..< rows * total).map { Float($0) * 0.25 - 2 }
        let starts = widths.indices.map { widths[..<$0].reduce(0, +) }
        let results = try LocalCommunicator.run(size: widths.count) { group -> [Float] in
            let r = group.rank
            var mine = r == 0 ? full.enumerated().map { $0.offset % total < widths[0] ? $0.element : 0 }
                : RandomTransformer.columns(full, columns: total, starts[r] ..< starts[r] + widths[r])
            return try withView(&mine, columns: r == 0 ? total : widths[r]) {
                try TensorParallelMappings.gatherToFirstRank($0, widths: widths, group: group)
            }
        }
        #expect(results[0] == full)
    }
}
