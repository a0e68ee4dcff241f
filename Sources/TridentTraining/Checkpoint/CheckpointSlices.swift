/// A rectangle of a row-major tensor `[rows, columns]` (a vector `[n]` is `[n, 1]`): the part
/// of a tensor one rank holds, or one file stores.
public struct TensorRegion: Sendable, Hashable, CustomStringConvertible {
    public var rows: Range<Int>
    public var columns: Range<Int>

    public init(rows: Range<Int>, columns: Range<Int>) {
        self.rows = rows
        self.columns = columns
    }

    /// Elements inside.
    public var count: Int { rows.count * columns.count }

    /// The common part of two regions, nil when they do not meet.
    public func intersection(_ other: TensorRegion) -> TensorRegion? {
        let r0 = max(rows.lowerBound, other.rows.lowerBound), r1 = min(rows.upperBound, other.rows.upperBound)
        let c0 = max(columns.lowerBound, other.columns.lowerBound), c1 = min(columns.upperBound, other.columns.upperBound)
        guard r0 < r1, c0 < c1 else { return nil }
        return TensorRegion(rows: r0 ..< r1, columns: c0 ..< c1)
    }

    /// Copies the elements of `part` from `source` (laid out row-major as `sourceRegion`) into
    /// `destination` (laid out as `self`). `part` must lie inside both regions; `source` may be
    /// unaligned (a file mapping).
    public func copy(_ part: TensorRegion, from source: UnsafeRawPointer, laidOutAs sourceRegion: TensorRegion,
                     into destination: UnsafeMutablePointer<Float>) {
        precondition(intersection(part) == part && sourceRegion.intersection(part) == part,
                     "region \(part) outside \(self) or \(sourceRegion)")
        let size = MemoryLayout<Float>.size
        let rowBytes = part.columns.count * size
        for row in part.rows {
            let from = ((row - sourceRegion.rows.lowerBound) * sourceRegion.columns.count
                        + part.columns.lowerBound - sourceRegion.columns.lowerBound) * size
            let to = (row - rows.lowerBound) * columns.count + part.columns.lowerBound - columns.lowerBound
            UnsafeMutableRawPointer(destination + to).copyMemory(from: source + from, byteCount: rowBytes)
        }
    }

    public var description: String {
        "rows \(rows.lowerBound)..<\(rows.upperBound) x columns \(columns.lowerBound)..<\(columns.upperBound)"
    }
}

extension TrainableParameter {
    /// The part of the full tensor this parameter view holds.
    public var region: TensorRegion {
        let rowCount = globalShape.first ?? 1
        let columnCount = globalShape.dropFirst().reduce(1, *)
        return TensorRegion(rows: shardRows ?? 0 ..< rowCount, columns: shardColumns ?? 0 ..< columnCount)
    }
}

/// Which of a rank's parameter views it writes into a checkpoint, so that every element of
/// every tensor is written exactly once over the world:
/// - data-parallel replicas hold the same values and moments: the views are dealt among them
///   round-robin (view k of the rank's own list goes to replica `k mod D`), so all write in parallel;
/// - within a tensor group, a view replicated on every rank is written by tensor rank 0, a
///   duplicated KV head by its owner (`GradientSharing.counted`);
/// - a pipeline stage holds only its own tensors, so the rule needs nothing for stages.
public enum CheckpointOwnership {
    /// Indices into `parameters` of the views this rank writes.
    public static func views(_ parameters: [TrainableParameter], tensorRank: Int, dataRank: Int, dataSize: Int) -> [Int] {
        let counted = parameters.indices.filter { parameters[$0].sharing.counted(tensorRank: tensorRank) }
        return counted.enumerated().filter { $0.offset % max(dataSize, 1) == dataRank }.map(\.element)
    }
}
