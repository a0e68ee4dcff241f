import TridentKernels

/// The layers one rank runs for its pipeline stage: the embedding on the first stage, its
/// contiguous transformer blocks, and the final norm and LM head on the last stage.
public struct StageModules: Sendable {
    /// Vocabulary-parallel token embedding; nil off the first stage.
    public var embedding: VocabParallelEmbedding?
    /// Learned positions added after the token embedding; nil with RoPE or off the first stage.
    public var positionEmbedding: PositionEmbedding?
    /// The stage's blocks, in order.
    public var blocks: [TransformerBlock]
    /// Final norm and vocabulary-parallel LM head; nil off the last stage.
    public var head: LMHead?

    public init(embedding: VocabParallelEmbedding?, positionEmbedding: PositionEmbedding? = nil,
                blocks: [TransformerBlock], head: LMHead?) {
        self.embedding = embedding
        self.positionEmbedding = positionEmbedding
        self.blocks = blocks
        self.head = head
    }
}

extension ShardingPlan {
    /// Every rank's number of vocabulary rows, in rank order (`vocabularyRows` of each rank).
    public static func vocabularyWidths(_ c: ModelConfiguration, tensorParallelSize size: Int) -> [Int] {
        (0 ..< size).map { evenSplit(c.vocabularySize, parts: size, index: $0).count }
    }

    /// This rank's attention heads: its query heads, its KV heads, and which of them each
    /// query head reads.
    public func attentionLayout(_ c: ModelConfiguration) -> AttentionLayout {
        AttentionLayout(heads: queryHeads.count, kvHeads: kvHeads.count, headDim: c.headDimension,
                        kvHeadForHead: localKVHeadForQueryHead(groupSize: c.groupSize))
    }
}
