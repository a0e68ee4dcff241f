/// One axis of the 3-D rank grid.
public enum ParallelAxis: Sendable, Hashable, CaseIterable {
    case tensor, pipeline, data
}

/// A rank's position on the grid.
public struct ParallelCoordinates: Sendable, Hashable {
    public var tensor: Int
    public var pipeline: Int
    public var data: Int

    public init(tensor: Int, pipeline: Int, data: Int) {
        self.tensor = tensor
        self.pipeline = pipeline
        self.data = data
    }

    /// The coordinate along `axis`.
    public subscript(axis: ParallelAxis) -> Int {
        switch axis {
        case .tensor: tensor
        case .pipeline: pipeline
        case .data: data
        }
    }
}

/// The layout of a world of `tensor * pipeline * data` ranks on a 3-D grid (a pure value).
///
/// World rank `r = tp + pp * TP + dp * TP * PP`: tensor-parallel peers are adjacent ranks,
/// so a TP group sits on one machine when ranks are placed host by host.
///
/// Worked example, TP=2, PP=2, DP=2 (8 ranks):
///
///     rank: 0 1 2 3 4 5 6 7
///     tp:   0 1 0 1 0 1 0 1
///     pp:   0 0 1 1 0 0 1 1
///     dp:   0 0 0 0 1 1 1 1
///
///     tensor groups   (vary tp): [0,1] [2,3] [4,5] [6,7]
///     pipeline groups (vary pp): [0,2] [1,3] [4,6] [5,7]
///     data groups     (vary dp): [0,4] [1,5] [2,6] [3,7]
///
/// Rank 5 is (tp 1, pp 0, dp 1): it all-reduces activations with rank 4, sends its stage's
/// output to rank 7 (pipeline stage 1 of its replica) and averages gradients with rank 1.
public struct ParallelLayout: Sendable, Hashable, CustomStringConvertible {
    public let tensor: Int
    public let pipeline: Int
    public let data: Int

    /// A layout with the given degrees (each at least 1).
    public init(tensor: Int = 1, pipeline: Int = 1, data: Int = 1) throws {
        guard tensor >= 1, pipeline >= 1, data >= 1 else {
            throw ParallelLayoutError.invalidDegree(tensor: tensor, pipeline: pipeline, data: data)
        }
        self.tensor = tensor
        self.pipeline = pipeline
        self.data = data
    }

    /// A layout that must cover exactly `worldSize` ranks; throws `.worldSizeMismatch` otherwise.
    public init(tensor: Int = 1, pipeline: Int = 1, data: Int = 1, worldSize: Int) throws {
        try self.init(tensor: tensor, pipeline: pipeline, data: data)
        try validate(worldSize: worldSize)
    }

    /// Total number of ranks: `tensor * pipeline * data`.
    public var worldSize: Int { tensor * pipeline * data }

    /// The degree (group size) along `axis`.
    public func degree(_ axis: ParallelAxis) -> Int {
        switch axis {
        case .tensor: tensor
        case .pipeline: pipeline
        case .data: data
        }
    }

    /// Throws `.worldSizeMismatch` unless `worldSize == tensor * pipeline * data`.
    public func validate(worldSize: Int) throws {
        guard worldSize == self.worldSize else {
            throw ParallelLayoutError.worldSizeMismatch(worldSize: worldSize, tensor: tensor, pipeline: pipeline, data: data)
        }
    }

    /// Coordinates of world rank `rank` (`0..<worldSize`).
    public func coordinates(of rank: Int) -> ParallelCoordinates {
        precondition((0..<worldSize).contains(rank), "rank \(rank) outside 0..<\(worldSize) for \(self)")
        return ParallelCoordinates(tensor: rank % tensor, pipeline: (rank / tensor) % pipeline,
                                   data: rank / (tensor * pipeline))
    }

    /// World rank at `coordinates`.
    public func rank(at coordinates: ParallelCoordinates) -> Int {
        precondition((0..<tensor).contains(coordinates.tensor) && (0..<pipeline).contains(coordinates.pipeline)
                     && (0..<data).contains(coordinates.data), "\(coordinates) outside \(self)")
        return coordinates.tensor + coordinates.pipeline * tensor + coordinates.data * tensor * pipeline
    }

    /// World ranks of the `axis` group that contains `rank`, ordered by their coordinate on `axis`.
    public func members(of axis: ParallelAxis, containing rank: Int) -> [Int] {
        let base = coordinates(of: rank)
        return (0..<degree(axis)).map { index in
            var c = base
            switch axis {
            case .tensor: c.tensor = index
            case .pipeline: c.pipeline = index
            case .data: c.data = index
            }
            return self.rank(at: c)
        }
    }

    /// Every `axis` group, each listed as its world ranks; groups ordered by their first member.
    public func groups(along axis: ParallelAxis) -> [[Int]] {
        var seen = Set<Int>()
        var result: [[Int]] = []
        for rank in 0..<worldSize where !seen.contains(rank) {
            let group = members(of: axis, containing: rank)
            seen.formUnion(group)
            result.append(group)
        }
        return result
    }

    /// Index of `rank`'s `axis` group among `groups(along: axis)`; used as the split color.
    public func groupIndex(of axis: ParallelAxis, containing rank: Int) -> Int {
        let first = members(of: axis, containing: rank)[0]
        return groups(along: axis).firstIndex { $0[0] == first }!
    }

    public var description: String { "ParallelLayout(tensor: \(tensor), pipeline: \(pipeline), data: \(data))" }
}

/// Why a `ParallelLayout` could not be made or used.
public enum ParallelLayoutError: Error, Equatable, CustomStringConvertible {
    case invalidDegree(tensor: Int, pipeline: Int, data: Int)
    case worldSizeMismatch(worldSize: Int, tensor: Int, pipeline: Int, data: Int)

    public var description: String {
        switch self {
        case let .invalidDegree(t, p, d):
            "parallel degrees must be at least 1, got tensor \(t), pipeline \(p), data \(d)"
        case let .worldSizeMismatch(world, t, p, d):
            "world size \(world) does not equal tensor x pipeline x data = \(t) x \(p) x \(d) = \(t * p * d)"
        }
    }
}
