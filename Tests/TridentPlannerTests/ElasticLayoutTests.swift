import Testing
@testable import TridentPlanner

/// `--tp/--pp/--dp auto` of `trident train`: the layout picked for a world size.
@Suite("Elastic layout")
struct ElasticLayoutTests {
    static let tiny = ElasticLayout.Limits(heads: 4, layers: 2, microBatch: 2, globalBatch: 16)

    static func pick(_ t: Int?, _ p: Int?, _ d: Int?, world: Int, limits: ElasticLayout.Limits = tiny) throws -> [Int] {
        let choice = try ElasticLayout.choose(.init(tensor: t, pipeline: p, data: d), world: world, limits: limits)
        #expect(choice.tensor * choice.pipeline * choice.data == world)
        return [choice.tensor, choice.pipeline, choice.data]
    }

    @Test("--dp auto fills the world; explicit tp/pp are kept while they fit")
    func dataFills() throws {
        #expect(try Self.pick(1, 1, nil, world: 2) == [1, 1, 2])
        #expect(try Self.pick(1, 1, nil, world: 1) == [1, 1, 1])
        #expect(try Self.pick(2, 1, nil, world: 4) == [2, 1, 2])
        #expect(try Self.pick(2, 2, nil, world: 8) == [2, 2, 2])
        #expect(try Self.pick(nil, nil, nil, world: 8) == [1, 1, 8])
    }

    @Test("explicit dp with tp auto: tensor parallelism takes the rest, then pipeline when heads run out")
    func tensorTakesTheRest() throws {
        #expect(try Self.pick(nil, 1, 2, world: 8) == [4, 1, 2])
        #expect(try Self.pick(nil, nil, 1, world: 8) == [4, 2, 1])
    }

    @Test("explicit values that no longer fit shrink, data parallelism fills the world, and the reason says why")
    func shrinks() throws {
        #expect(try Self.pick(2, 1, nil, world: 1) == [1, 1, 1])
        #expect(try Self.pick(2, 2, nil, world: 2) == [2, 1, 1])
        #expect(try Self.pick(4, 1, nil, world: 6, limits: .init(heads: 4, layers: 2, microBatch: 1, globalBatch: nil)) == [3, 1, 2])
        let choice = try ElasticLayout.choose(.init(tensor: 2, pipeline: 1, data: nil), world: 3,
                                              limits: .init(heads: 4, layers: 2, microBatch: 1, globalBatch: 6))
        #expect([choice.tensor, choice.pipeline, choice.data] == [1, 1, 3])
        #expect(choice.reason.contains("--tp 2 --pp 1 --dp auto does not fit WORLD_SIZE 3"), "\(choice.reason)")
    }

    @Test("the global batch limits dp; tp stays within the heads; no fit is a clear error")
    func limits() throws {
        // 16 sequences, micro-batch 2: dp must divide 8, so 3 ranks cannot all be replicas -> tp 3 (3 <= 4 heads).
        let limits = ElasticLayout.Limits(heads: 4, layers: 2, microBatch: 2, globalBatch: 16)
        #expect(try Self.pick(nil, 1, nil, world: 3, limits: limits) == [3, 1, 1])
        let error = #expect(throws: ElasticLayout.Unfit.self) {
            try ElasticLayout.choose(.init(tensor: 1, pipeline: 1, data: nil), world: 5, limits: limits)
        }
        #expect(error?.description.contains("WORLD_SIZE 5") == true && error?.description.contains("--global-batch 16") == true,
                "\(String(describing: error))")
    }
}
