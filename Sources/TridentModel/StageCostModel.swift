/// Estimated per-token cost of the pieces of a pipeline stage, in weights touched (proportional
/// to both FLOPs, 2 per weight, and bytes read at a given precision).
public struct StageCostModel: Sendable, Equatable {
    /// Cost of each block, in order.
    public var layerCosts: [Double]
    /// Cost of the embedding lookup on the first stage (one row copied: ~hidden).
    public var embeddingCost: Double
    /// Cost of the final norm and LM head on the last stage (~vocabulary * hidden).
    public var headCost: Double

    public init(layerCosts: [Double], embeddingCost: Double, headCost: Double) {
        precondition(!layerCosts.isEmpty && layerCosts.allSatisfy { $0 >= 0 } && embeddingCost >= 0 && headCost >= 0,
                     "costs must be non-negative, with at least one block")
        self.layerCosts = layerCosts
        self.embeddingCost = embeddingCost
        self.headCost = headCost
    }

    /// Costs from a model's shapes: a block is its weight count (q, k, v, o, gate, up, down
    /// and two norms), the LM head `vocabulary * hidden` plus the final norm, the embedding
    /// lookup `hidden`.
    public init(configuration c: ModelConfiguration) {
        let attention = c.hiddenSize * (2 * c.queryDimension + 2 * c.kvDimension)
        let mlp = 3 * c.hiddenSize * c.intermediateSize
        let block = Double(attention + mlp + 2 * c.hiddenSize)
        self.init(layerCosts: Array(repeating: block, count: c.layerCount),
                  embeddingCost: Double(c.hiddenSize),
                  headCost: Double(c.vocabularySize * c.hiddenSize + c.hiddenSize))
    }

    public var layerCount: Int { layerCosts.count }

    /// Cost of a stage running blocks `layers` as stage `stage` of `stages`.
    public func cost(of layers: Range<Int>, stage: Int, stages: Int) -> Double {
        var total = layerCosts[layers].reduce(0, +)
        if stage == 0 { total += embeddingCost }
        if stage == stages - 1 { total += headCost }
        return total
    }
}
