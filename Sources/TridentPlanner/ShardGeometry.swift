/// How one configuration cuts the model: heads and MLP columns per tensor rank, layers per
/// pipeline stage. Uneven cuts are kept as they are, so memory and time use the largest share.
public struct ShardGeometry: Sendable, Equatable {
    /// Query heads of each tensor rank (as even as possible: 9 on 2 ranks is `[5, 4]`).
    public let queryHeads: [Int]
    /// KV heads each tensor rank must hold: those its query heads read, so a KV head whose
    /// group straddles two ranks is counted on both (9 query / 3 KV heads on 2 ranks: `[2, 2]`).
    public let kvHeads: [Int]
    /// MLP intermediate columns of each tensor rank, cut at `blockSize` boundaries.
    public let mlpColumns: [Int]
    /// Vocabulary rows of the embedding and LM head per tensor rank (vocabulary-parallel).
    public let vocabularyRows: [Int]
    /// Transformer blocks of each pipeline stage (contiguous).
    public let stageLayers: [Int]

    /// Cuts `model` for `tensor` ranks and `pipeline` stages; `blockSize` is the weight
    /// format's quantization block (MLP columns are cut at its multiples).
    // Not inlined: Swift 6.3.1's SemanticARCOpts crashes on perDevice with it inlined
    // (now that ModelConfiguration holds an array).
    @inline(never)
    public init(model: PlannerModel, tensor: Int, pipeline: Int, blockSize: Int = 1) {
        let c = model.configuration
        precondition(tensor >= 1 && tensor <= c.headCount, "TP \(tensor) must be in 1...\(c.headCount) heads")
        precondition(pipeline >= 1 && pipeline <= c.layerCount, "PP \(pipeline) must be in 1...\(c.layerCount)")
        let heads = Self.evenSplit(c.headCount, parts: tensor)
        queryHeads = heads
        kvHeads = Self.kvHeadsNeeded(queryHeads: heads, groupSize: c.headCount / c.kvHeadCount)
        let blocks = Self.evenSplit((c.intermediateSize + blockSize - 1) / blockSize, parts: tensor)
        mlpColumns = blocks.map { $0 * blockSize }
        vocabularyRows = Self.evenSplit(c.vocabularySize, parts: tensor)
        stageLayers = Self.stageSplit(layers: c.layerCount, stages: pipeline)
    }

    /// Largest query-head share.
    public var maxQueryHeads: Int { queryHeads.max() ?? 0 }
    /// Largest KV-head share (duplicates included).
    public var maxKVHeads: Int { kvHeads.max() ?? 0 }
    /// Largest MLP-column share.
    public var maxMLPColumns: Int { mlpColumns.max() ?? 0 }
    /// Largest vocabulary share.
    public var maxVocabularyRows: Int { vocabularyRows.max() ?? 0 }

    /// `total` split into `parts` shares differing by at most one, larger shares first.
    static func evenSplit(_ total: Int, parts: Int) -> [Int] {
        (0..<parts).map { total / parts + ($0 < total % parts ? 1 : 0) }
    }

    /// KV heads touched by each rank's contiguous range of query heads.
    static func kvHeadsNeeded(queryHeads: [Int], groupSize: Int) -> [Int] {
        var start = 0
        return queryHeads.map { count in
            defer { start += count }
            guard count > 0 else { return 0 }
            let firstKV = start / groupSize
            let lastKV = (start + count - 1) / groupSize
            return lastKV - firstKV + 1
        }
    }

    /// Layers per stage as even as possible; the extra layers of an uneven split go to
    /// the middle stages first, since the first stage holds the embedding and the last
    /// the LM head.
    static func stageSplit(layers: Int, stages: Int) -> [Int] {
        var counts = Array(repeating: layers / stages, count: stages)
        var extra = layers % stages
        let middle = stages > 2 ? Array(1..<(stages - 1)) : []
        let order = middle + [0] + (stages > 1 ? [stages - 1] : [])
        for stage in order where extra > 0 {
            counts[stage] += 1
            extra -= 1
        }
        return counts
    }
}
