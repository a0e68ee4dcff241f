import Testing
import TridentCollectives

@Suite struct ParallelLayoutTests {
    static let shapes: [(Int, Int, Int)] = [(2, 2, 2), (4, 1, 2), (1, 3, 1), (3, 2, 1)]

    @Test(arguments: shapes)
    func ranksAndCoordinatesRoundTrip(shape: (Int, Int, Int)) throws {
        let layout = try ParallelLayout(tensor: shape.0, pipeline: shape.1, data: shape.2)
        #expect(layout.worldSize == shape.0 * shape.1 * shape.2)
        for rank in 0..<layout.worldSize {
            let c = layout.coordinates(of: rank)
            #expect(c.tensor + c.pipeline * shape.0 + c.data * shape.0 * shape.1 == rank)
            #expect(layout.rank(at: c) == rank)
        }
    }

    @Test(arguments: shapes)
    func groupsPartitionTheWorldAlongEachAxis(shape: (Int, Int, Int)) throws {
        let layout = try ParallelLayout(tensor: shape.0, pipeline: shape.1, data: shape.2)
        for axis in ParallelAxis.allCases {
            let groups = layout.groups(along: axis)
            #expect(groups.count == layout.worldSize / layout.degree(axis))
            #expect(groups.flatMap { $0 }.sorted() == Array(0..<layout.worldSize))
            for group in groups {
                #expect(group.count == layout.degree(axis))
                let coordinates = group.map { layout.coordinates(of: $0) }
                // Members agree on the other two axes and enumerate this axis in order.
                for other in ParallelAxis.allCases where other != axis {
                    #expect(Set(coordinates.map { $0[other] }).count == 1)
                }
                #expect(coordinates.map { $0[axis] } == Array(0..<layout.degree(axis)))
                for member in group { #expect(layout.members(of: axis, containing: member) == group) }
            }
        }
    }

    @Test func workedExampleFromTheDocComment() throws {
        let layout = try ParallelLayout(tensor: 2, pipeline: 2, data: 2)
        #expect(layout.groups(along: .tensor) == [[0, 1], [2, 3], [4, 5], [6, 7]])
        #expect(layout.groups(along: .pipeline) == [[0, 2], [1, 3], [4, 6], [5, 7]])
        #expect(layout.groups(along: .data) == [[0, 4], [1, 5], [2, 6], [3, 7]])
        #expect(layout.coordinates(of: 5) == ParallelCoordinates(tensor: 1, pipeline: 0, data: 1))
    }

    @Test func worldSizeMismatchSaysSo() throws {
        #expect(throws: ParallelLayoutError.worldSizeMismatch(worldSize: 6, tensor: 2, pipeline: 2, data: 2)) {
            _ = try ParallelLayout(tensor: 2, pipeline: 2, data: 2, worldSize: 6)
        }
        let error = ParallelLayoutError.worldSizeMismatch(worldSize: 6, tensor: 2, pipeline: 2, data: 2)
        #expect(error.description.contains("world size 6"))
        #expect(error.description.contains("= 8"))
        #expect(throws: ParallelLayoutError.self) { _ = try ParallelLayout(tensor: 0) }
    }

    @Test(arguments: shapes)
    func processGroupsCommunicateWithinTheirGroup(shape: (Int, Int, Int)) throws {
        let layout = try ParallelLayout(tensor: shape.0, pipeline: shape.1, data: shape.2)
        let results = try LocalCommunicator.run(size: layout.worldSize) { world in
            let groups = try ProcessGroups.make(world: world, layout: layout)
            var sums: [Int32] = []
            for axis in ParallelAxis.allCases {
                var value: [Int32] = [Int32(world.rank)]
                try groups.communicator(axis).allReduce(&value, op: .sum)
                sums.append(value[0])
            }
            let ranks = ParallelAxis.allCases.map { groups.communicator($0).rank }
            return (sums, ranks)
        }
        for (rank, (sums, ranks)) in results.enumerated() {
            for (index, axis) in ParallelAxis.allCases.enumerated() {
                let members = layout.members(of: axis, containing: rank)
                #expect(Int(sums[index]) == members.reduce(0, +), "rank \(rank) axis \(axis)")
                #expect(ranks[index] == layout.coordinates(of: rank)[axis])
            }
        }
    }

    @Test func singleRankGroupsReduceToThemselves() throws {
        let groups = ProcessGroups.single()
        var values: [Float] = [1.5, -2]
        try groups.tensor.allReduce(&values, op: .sum)
        #expect(values == [1.5, -2])
        #expect(groups.coordinates == ParallelCoordinates(tensor: 0, pipeline: 0, data: 0))
        #expect(ParallelAxis.allCases.allSatisfy { groups.communicator($0).size == 1 })
    }

    @Test func processGroupsRejectWrongWorldSize() throws {
        let layout = try ParallelLayout(tensor: 2, pipeline: 2)
        let world = LocalCommunicator.makeGroup(size: 3)[0]
        #expect(throws: ParallelLayoutError.self) { _ = try ProcessGroups.make(world: world, layout: layout) }
    }
}
