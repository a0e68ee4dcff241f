/// Which part of a Llama model one tensor-parallel rank owns.
///
/// Query heads are split as evenly as possible (9 heads on 2 ranks: 5 + 4; on 4 ranks:
/// 3 + 2 + 2 + 2). A rank computes every KV head its query heads use, so a KV head whose
/// group straddles two ranks is computed on both. MLP columns and vocabulary rows are split
/// at quantization-block boundaries (multiples of `alignment`), as evenly as possible.
///
/// Worked example, SmolLM2 (9 query heads, 3 KV heads, group 3, ffn 1536) at TP = 2:
/// rank 0 owns query heads 0..<5 and KV heads 0..<2 (head 3 and 4 use KV head 1);
/// rank 1 owns query heads 5..<9 and KV heads 1..<3 (KV head 1 is computed on both).
public struct ShardingPlan: Sendable, Equatable {
    /// Tensor-parallel degree.
    public let tensorParallelSize: Int
    /// This rank's index in the tensor-parallel group.
    public let tensorParallelRank: Int
    /// Query heads this rank computes.
    public let queryHeads: Range<Int>
    /// KV heads this rank computes (those its query heads use).
    public let kvHeads: Range<Int>
    /// Columns of the MLP's inner layer (rows of gate/up, columns of down) this rank owns.
    public let mlpColumns: Range<Int>
    /// Rows of the embedding / LM head this rank owns (vocabulary-parallel).
    public let vocabularyRows: Range<Int>

    /// Plans the shard of `rank` in a tensor-parallel group of `size`.
    /// - Throws: `ShardingError.tooManyRanks` when `size` exceeds the query-head count.
    public init(configuration c: ModelConfiguration, tensorParallelSize size: Int, rank: Int,
                alignment: Int = 32) throws {
        precondition(rank >= 0 && rank < size, "rank \(rank) outside tensor-parallel group of \(size)")
        guard size <= c.headCount else {
            throw ShardingError.tooManyRanks(tensorParallelSize: size, headCount: c.headCount)
        }
        tensorParallelSize = size
        tensorParallelRank = rank
        queryHeads = ShardingPlan.evenSplit(c.headCount, parts: size, index: rank)
        let group = c.groupSize
        kvHeads = (queryHeads.lowerBound / group) ..< ((queryHeads.upperBound - 1) / group + 1)
        mlpColumns = ShardingPlan.blockSplit(c.intermediateSize, parts: size, index: rank, block: alignment)
        vocabularyRows = ShardingPlan.evenSplit(c.vocabularySize, parts: size, index: rank)
    }

    /// The whole model on one rank.
    public static func unsharded(_ c: ModelConfiguration) -> ShardingPlan {
        // A single rank can never exceed the head count.
        try! ShardingPlan(configuration: c, tensorParallelSize: 1, rank: 0)
    }

    /// For each local query head, the index of its KV head among this rank's KV heads.
    public func localKVHeadForQueryHead(groupSize: Int) -> [Int] {
        queryHeads.map { $0 / groupSize - kvHeads.lowerBound }
    }

    /// Splits `count` items into `parts` contiguous ranges whose sizes differ by at most one;
    /// the first `count % parts` ranges get the extra item.
    public static func evenSplit(_ count: Int, parts: Int, index: Int) -> Range<Int> {
        let base = count / parts, extra = count % parts
        let start = index * base + min(index, extra)
        return start ..< start + base + (index < extra ? 1 : 0)
    }

    /// Like `evenSplit`, in whole blocks of `block` items (the last range takes any
    /// remainder smaller than one block).
    public static func blockSplit(_ count: Int, parts: Int, index: Int, block: Int) -> Range<Int> {
        let blocks = count / block
        guard blocks >= parts else { return evenSplit(count, parts: parts, index: index) }
        let r = evenSplit(blocks, parts: parts, index: index)
        let end = index == parts - 1 ? count : r.upperBound * block
        return r.lowerBound * block ..< end
    }
}

/// Why a model cannot be sharded as asked.
public enum ShardingError: Error, CustomStringConvertible, Equatable {
    case tooManyRanks(tensorParallelSize: Int, headCount: Int)

    public var description: String {
        switch self {
        case let .tooManyRanks(tp, heads):
            return "tensor-parallel size \(tp) exceeds the model's \(heads) query heads; use --tp between 1 and \(heads)"
        }
    }
}
