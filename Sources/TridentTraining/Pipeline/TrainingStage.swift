/// Which part of a model one pipeline stage holds for training: a contiguous range of
/// blocks, the embedding when it is the first stage, the final norm, LM head and loss when it
/// is the last. A model without pipeline parallelism is one stage that is both.
public struct TrainingStage: Sendable, Equatable, CustomStringConvertible {
    /// Global block indices this stage runs, in order.
    public let blocks: Range<Int>
    public let isFirst: Bool
    public let isLast: Bool

    public init(blocks: Range<Int>, isFirst: Bool, isLast: Bool) {
        precondition(blocks.lowerBound >= 0, "block indices are non-negative")
        self.blocks = blocks
        self.isFirst = isFirst
        self.isLast = isLast
    }

    /// The whole model of `layers` blocks as one stage.
    public static func whole(layers: Int) -> TrainingStage {
        TrainingStage(blocks: 0 ..< layers, isFirst: true, isLast: true)
    }

    /// Stage `index` of `ranges.count` (the ranges of a `StagePartition`).
    public static func stage(_ index: Int, of ranges: [Range<Int>]) -> TrainingStage {
        precondition(ranges.indices.contains(index), "stage \(index) of \(ranges.count)")
        return TrainingStage(blocks: ranges[index], isFirst: index == 0, isLast: index == ranges.count - 1)
    }

    public var description: String {
        "blocks \(blocks.lowerBound)..<\(blocks.upperBound)" + (isFirst ? " +embedding" : "") + (isLast ? " +head" : "")
    }
}
