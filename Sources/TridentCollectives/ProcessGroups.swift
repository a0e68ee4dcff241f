/// The communicators one rank uses: its tensor, pipeline and data groups, plus the world.
///
/// Pass this explicitly to every layer that communicates (there are no process-group globals).
/// A group of size 1 is an ordinary communicator whose collectives return without communicating.
public struct ProcessGroups: Sendable {
    public let world: any Communicator
    public let tensor: any Communicator
    public let pipeline: any Communicator
    public let data: any Communicator
    public let layout: ParallelLayout

    /// Groups assembled by hand (e.g. in tests); `make(world:layout:)` is the usual way.
    public init(world: any Communicator, tensor: any Communicator, pipeline: any Communicator,
                data: any Communicator, layout: ParallelLayout) {
        self.world = world
        self.tensor = tensor
        self.pipeline = pipeline
        self.data = data
        self.layout = layout
    }

    /// This rank's coordinates on the grid.
    public var coordinates: ParallelCoordinates { layout.coordinates(of: world.rank) }

    /// The communicator for `axis`.
    public func communicator(_ axis: ParallelAxis) -> any Communicator {
        switch axis {
        case .tensor: tensor
        case .pipeline: pipeline
        case .data: data
        }
    }

    /// Groups for a single-process run: world, tensor, pipeline and data are all one rank
    /// (a size-1 `LocalCommunicator`, whose collectives return without communicating).
    public static func single() -> ProcessGroups {
        let one = LocalCommunicator.makeGroup(size: 1)[0]
        // A layout of 1 x 1 x 1 cannot fail.
        let layout = try! ParallelLayout(tensor: 1, pipeline: 1, data: 1)
        return ProcessGroups(world: one, tensor: one, pipeline: one, data: one, layout: layout)
    }

    /// Splits `world` into this rank's tensor, pipeline and data groups.
    ///
    /// Collective over `world`: every world rank must call it with the same layout.
    /// Throws `ParallelLayoutError.worldSizeMismatch` if `world.size != layout.worldSize`
    /// (before any communication), or a `CollectiveError` from `split`.
    /// Within each group, rank order follows the coordinate on that axis.
    public static func make(world: any Communicator, layout: ParallelLayout) throws -> ProcessGroups {
        try layout.validate(worldSize: world.size)
        let me = layout.coordinates(of: world.rank)
        func group(_ axis: ParallelAxis) throws -> any Communicator {
            try world.split(color: layout.groupIndex(of: axis, containing: world.rank), key: me[axis])
        }
        return ProcessGroups(world: world, tensor: try group(.tensor), pipeline: try group(.pipeline),
                             data: try group(.data), layout: layout)
    }
}
