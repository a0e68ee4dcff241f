/// How the blocks of a model are split into contiguous pipeline stages.
///
/// Stage `s` runs blocks `ranges[s]`; the ranges are non-empty, contiguous, in order and cover
/// `0 ..< layerCount`. The first stage also owns the embedding lookup and the last the final
/// norm and LM head, so a balanced split gives the last stage fewer blocks when the LM head is
/// expensive. Worked example, SmolLM2-135M (30 blocks of ~3.5 M weights, LM head 49152 x 576
/// = 28.3 M weights, about 8 blocks' worth) on 2 stages: `0..<19` and `19..<30`
/// (costs 19 vs 11 + 8 blocks).
public struct StagePartition: Sendable, Equatable, CustomStringConvertible {
    /// Blocks of each stage, in stage order.
    public let ranges: [Range<Int>]

    /// Number of pipeline stages.
    public var stageCount: Int { ranges.count }
    /// Total number of blocks.
    public var layerCount: Int { ranges.last?.upperBound ?? 0 }
    /// Blocks per stage, e.g. `[19, 11]`.
    public var sizes: [Int] { ranges.map(\.count) }
    /// Blocks of `stage`.
    public func layers(forStage stage: Int) -> Range<Int> {
        precondition(stage >= 0 && stage < ranges.count, "stage \(stage) outside 0..<\(ranges.count)")
        return ranges[stage]
    }

    /// Comma-separated block counts, the `--pipeline-layers` spelling: `"19,11"`.
    public var description: String { sizes.map(String.init).joined(separator: ",") }

    /// A partition with the given block counts per stage (validated like `--pipeline-layers`).
    /// - Throws: `StagePartitionError` when `sizes` does not have `stages` entries, an entry is
    ///   below 1, or the entries do not add up to `layerCount`.
    public init(sizes: [Int], layerCount: Int, stages: Int) throws {
        try StagePartition.checkStageCount(stages, layerCount: layerCount)
        guard sizes.count == stages else {
            throw StagePartitionError.wrongStageCount(expected: stages, found: sizes.count)
        }
        if let bad = sizes.firstIndex(where: { $0 < 1 }) {
            throw StagePartitionError.emptyStage(stage: bad, layers: sizes[bad])
        }
        let total = sizes.reduce(0, +)
        guard total == layerCount else {
            throw StagePartitionError.wrongLayerTotal(expected: layerCount, found: total, sizes: sizes)
        }
        var start = 0
        ranges = sizes.map { size in
            defer { start += size }
            return start ..< start + size
        }
    }

    /// Parses an explicit `--pipeline-layers` value such as `"10,10,10"` and validates it.
    /// - Throws: `StagePartitionError.notANumber` for an entry that is not a whole number, and
    ///   the errors of `init(sizes:layerCount:stages:)`.
    public static func parse(_ text: String, layerCount: Int, stages: Int) throws -> StagePartition {
        let entries = text.split(separator: ",", omittingEmptySubsequences: false)
        var sizes: [Int] = []
        for (index, entry) in entries.enumerated() {
            let trimmed = entry.trimmingSpaces()
            guard let value = Int(trimmed) else {
                throw StagePartitionError.notANumber(entry: String(entry), position: index)
            }
            sizes.append(value)
        }
        return try StagePartition(sizes: sizes, layerCount: layerCount, stages: stages)
    }

    /// The contiguous split of `configuration`'s blocks over `stages` that minimises the most
    /// expensive stage's estimated cost (see `StageCostModel`).
    /// - Throws: `StagePartitionError.moreStagesThanLayers` when `stages > layerCount`.
    public static func balanced(configuration: ModelConfiguration, stages: Int) throws -> StagePartition {
        try balanced(costs: StageCostModel(configuration: configuration), stages: stages)
    }

    /// The contiguous split minimising the maximum stage cost; among splits with that
    /// maximum, the one with the smallest sum of squared stage costs (the most even), and
    /// among those the one giving earlier stages more blocks.
    ///
    /// Exact dynamic programme, O(stages * layers^2): fine for any real model.
    /// - Throws: `StagePartitionError.moreStagesThanLayers` when `stages > costs.layerCount`.
    public static func balanced(costs: StageCostModel, stages: Int) throws -> StagePartition {
        let layerCount = costs.layerCount
        try checkStageCount(stages, layerCount: layerCount)
        let bottleneck = minimalBottleneck(costs, stages: stages)
        // Allow for rounding in the sums compared against `bottleneck`.
        let limit = bottleneck * (1 + 1e-9)
        // best[p][j]: least sum of squares splitting blocks 0..<j into p stages, each <= limit.
        let infinity = Double.infinity
        var best = [[Double]](repeating: [Double](repeating: infinity, count: layerCount + 1), count: stages + 1)
        var split = [[Int]](repeating: [Int](repeating: -1, count: layerCount + 1), count: stages + 1)
        best[0][0] = 0
        for p in 1...stages {
            for j in p...layerCount {
                // Iterating i downwards keeps the largest split point on ties: earlier stages get more.
                for i in stride(from: j - 1, through: p - 1, by: -1) where best[p - 1][i] < infinity {
                    let c = costs.cost(of: i ..< j, stage: p - 1, stages: stages)
                    guard c <= limit else { continue }
                    let total = best[p - 1][i] + c * c
                    if total < best[p][j] * (1 - 1e-12) { best[p][j] = total; split[p][j] = i }
                }
            }
        }
        var sizes = [Int](repeating: 0, count: stages)
        var end = layerCount
        for p in stride(from: stages, through: 1, by: -1) {
            let start = split[p][end]
            precondition(start >= 0, "no partition within the optimal bottleneck (internal error)")
            sizes[p - 1] = end - start
            end = start
        }
        return try StagePartition(sizes: sizes, layerCount: layerCount, stages: stages)
    }

    /// Estimated cost of each stage under `costs`, in stage order.
    public func stageCosts(_ costs: StageCostModel) -> [Double] {
        precondition(costs.layerCount == layerCount, "cost model has \(costs.layerCount) blocks, partition \(layerCount)")
        return ranges.enumerated().map { costs.cost(of: $1, stage: $0, stages: stageCount) }
    }

    // MARK: - Helpers

    static func checkStageCount(_ stages: Int, layerCount: Int) throws {
        precondition(layerCount >= 1, "a model has at least one block")
        guard stages >= 1 else { throw StagePartitionError.invalidStageCount(stages) }
        guard stages <= layerCount else {
            throw StagePartitionError.moreStagesThanLayers(stages: stages, layers: layerCount)
        }
    }

    /// The least possible maximum stage cost over all contiguous splits.
    static func minimalBottleneck(_ costs: StageCostModel, stages: Int) -> Double {
        let n = costs.layerCount
        var best = [[Double]](repeating: [Double](repeating: .infinity, count: n + 1), count: stages + 1)
        best[0][0] = 0
        for p in 1...stages {
            for j in p...n {
                for i in (p - 1)..<j where best[p - 1][i] < .infinity {
                    let c = max(best[p - 1][i], costs.cost(of: i ..< j, stage: p - 1, stages: stages))
                    best[p][j] = min(best[p][j], c)
                }
            }
        }
        return best[stages][n]
    }
}

/// Why a pipeline partition was refused.
public enum StagePartitionError: Error, CustomStringConvertible, Equatable {
    case invalidStageCount(Int)
    case moreStagesThanLayers(stages: Int, layers: Int)
    case wrongStageCount(expected: Int, found: Int)
    case emptyStage(stage: Int, layers: Int)
    case wrongLayerTotal(expected: Int, found: Int, sizes: [Int])
    case notANumber(entry: String, position: Int)

    public var description: String {
        switch self {
        case .invalidStageCount(let p):
            return "pipeline-parallel size must be at least 1, found \(p)"
        case let .moreStagesThanLayers(p, l):
            return "pipeline-parallel size \(p) exceeds the model's \(l) blocks: every stage needs at least one block; use --pp between 1 and \(l)"
        case let .wrongStageCount(expected, found):
            return "--pipeline-layers lists \(found) stage\(found == 1 ? "" : "s") but the pipeline has \(expected); give one block count per stage"
        case let .emptyStage(stage, layers):
            return "--pipeline-layers gives stage \(stage) \(layers) blocks; every stage needs at least 1"
        case let .wrongLayerTotal(expected, found, sizes):
            let list = sizes.map(String.init).joined(separator: ",")
            return "--pipeline-layers \(list) adds up to \(found) blocks but the model has \(expected)"
        case let .notANumber(entry, position):
            return "--pipeline-layers entry \(position + 1) ('\(entry)') is not a whole number; expected e.g. 10,10,10"
        }
    }
}

extension Substring {
    /// The text without leading and trailing spaces or tabs.
    fileprivate func trimmingSpaces() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
