import TridentCollectives
import TridentKernels
import TridentModel

/// Runs `body` on every rank of a `size`-rank local tensor group (threads), each with its
/// sharding plan for `c` and an inference context over the group. - Returns: rank order.
func onTensorRanks<R: Sendable>(_ c: ModelConfiguration, size: Int,
                                _ body: @escaping @Sendable (ShardingPlan, InferenceContext) throws -> R) throws -> [R] {
    try LocalCommunicator.run(size: size) { group in
        let plan = try ShardingPlan(configuration: c, tensorParallelSize: size, rank: group.rank)
        return try body(plan, InferenceContext(group: group, pool: ThreadPool(threadCount: 1)))
    }
}

/// Calls `body` with a view of `values` as `[values.count / columns, columns]`; returns the
/// values afterwards (a layer may write into them).
@discardableResult
func withView(_ values: inout [Float], columns: Int, _ body: (MatrixView) throws -> Void) rethrows -> [Float] {
    try values.withUnsafeMutableBufferPointer {
        try body(MatrixView($0.baseAddress!, rows: $0.count / columns, columns: columns))
    }
    return values
}

/// `[rows, columns]` zeros and a body writing into their view; returns them.
func output(rows: Int, columns: Int, _ body: (MatrixView) throws -> Void) rethrows -> [Float] {
    var values = [Float](repeating: 0, count: rows * columns)
    return try withView(&values, columns: columns, body)
}

/// An awkward small configuration: 10 query heads over 5 KV heads (pairs), so TP 2 gives 5 + 5
/// heads with KV head 2 on both ranks and TP 3 gives 4 + 3 + 3 with KV head 3 on ranks 1 and 2;
/// widths that are not multiples of 8 (SIMD tails) nor of each other.
func awkwardConfiguration(normalization: NormalizationKind = .rms, activation: Activation = .silu,
                          gated: Bool = true, biases: Bool = false,
                          positions: PositionEncoding = .rope, tied: Bool = false) -> ModelConfiguration {
    var c = ModelConfiguration(hiddenSize: 22, intermediateSize: 37, layerCount: 2, headCount: 10, kvHeadCount: 5,
                               vocabularySize: 23, rmsNormEpsilon: 1e-5, ropeTheta: 10_000, contextLength: 16,
                               tiedEmbeddings: tied, headDimension: 4)
    c.normalization = normalization
    c.activation = activation
    c.gatedMLP = gated
    c.attentionBias = biases
    c.mlpBias = biases
    c.positionEncoding = positions
    return c
}

/// `rows` rows of random activations, `[rows, width]`.
func randomActivations(rows: Int, width: Int, seed: UInt64) -> [Float] {
    var random = SeededRandom(seed: seed)
    return random.floats(rows * width, scale: 1.5)
}
