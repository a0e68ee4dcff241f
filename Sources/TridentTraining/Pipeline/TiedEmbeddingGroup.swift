import TridentCollectives

/// Megatron's embedding group: with tied embeddings and more than one pipeline stage, the first
/// stage (embedding) and the last (LM head) each hold a copy of `token_embd.weight`; the sum of
/// their gradients is the gradient of the one tied parameter, so both copies take the same step.
public struct TiedEmbeddingGroup {
    /// The two ends of the pipeline (its first and last rank), nil on the stages between.
    public let group: (any Communicator)?

    /// Splits `pipelineGroup` into its two ends and the rest. Every rank of `pipelineGroup` must
    /// call this. - Throws: `CollectiveError`.
    public static func make(pipelineGroup: any Communicator) throws -> TiedEmbeddingGroup {
        let rank = pipelineGroup.rank, last = pipelineGroup.size - 1
        let isEnd = rank == 0 || rank == last
        let group = try pipelineGroup.split(color: isEnd ? 0 : 1, key: rank)
        return TiedEmbeddingGroup(group: isEnd ? group : nil)
    }

    /// Sums `gradients` (this end's views of the tied embedding, `[count]` f32 each, the same
    /// sizes at both ends) across the two ends in place. Both ends must call this, in the same order.
    /// - Throws: `CollectiveError`.
    public func sum(_ gradients: [UnsafeMutableBufferPointer<Float>]) throws {
        guard let group, group.size > 1 else { return }
        for gradient in gradients {
            try group.allReduce(UnsafeMutableRawBufferPointer(gradient), type: .float32, op: .sum)
        }
    }
}
