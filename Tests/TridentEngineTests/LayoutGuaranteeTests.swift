import Foundation
import Testing
import TridentCollectives
import TridentEngine
import TridentFormats
import TridentModel
import TridentTokenizer

/// What the README promises about layouts, on the 6-block fixture (ranks are threads):
/// pipeline and data parallelism compute bit-identical logits, so sampled streams equal one
/// rank's for every seed; tensor parallelism sums in another order, so only greedy streams
/// are promised equal (away from exact near-ties), sampled ones may part.
@Suite("Sampled and greedy streams across layouts", .serialized)
struct LayoutGuaranteeTests {
    static func generate(_ layout: ParallelLayout, _ requests: [GenerationRequest]) throws -> [[Int32]] {
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: TinyFixture.sixLayers))
        let box = StreamsBox()
        let outcomes = try LocalCommunicator.run(size: layout.worldSize) { communicator in
            Result { () -> Int in
                let runtime = try RankRuntime.load(path: TinyFixture.sixLayers, world: communicator, layout: layout,
                                                   threads: 1, capacity: 64, slotsPerReplica: 2)
                guard communicator.rank == 0 else { try WorkerLoop.run(runtime); return 0 }
                box.streams = try DistributedRunner.drive(runtime) { runner in
                    try BatchGenerator(runner: runner, tokenizer: tokenizer).generate(requests).map(\.tokens)
                }
                return 0
            }
        }
        for case .failure(let error) in outcomes { throw error }
        return box.streams
    }

    static func requests(temperature: Float) -> [GenerationRequest] {
        (0..<8).map { seed in
            GenerationRequest(promptTokens: Array("Layouts \(seed)".utf8).map { Int32($0) }, maxTokens: 16,
                              sampling: SamplingParameters(temperature: temperature, topK: 40, topP: 0.95,
                                                           seed: UInt64(seed)),
                              ignoreEndOfGeneration: true)
        }
    }

    @Test("PP2, DP2 and PP2 x DP2 sample exactly one rank's streams at T=0.8 (8 seeds x 16 tokens)")
    func pipelineAndDataSampleIdentically() throws {
        let requests = Self.requests(temperature: 0.8)
        let single = try Self.generate(ParallelLayout(), requests)
        #expect(Set(single).count == requests.count)
        for layout in [try ParallelLayout(pipeline: 2), try ParallelLayout(data: 2), try ParallelLayout(pipeline: 2, data: 2)] {
            #expect(try Self.generate(layout, requests) == single, "\(layout)")
        }
    }

    @Test("TP2 and TP2 x PP2 give one rank's greedy streams")
    func tensorGreedyIdentical() throws {
        let requests = Self.requests(temperature: 0)
        let single = try Self.generate(ParallelLayout(), requests)
        for layout in [try ParallelLayout(tensor: 2), try ParallelLayout(tensor: 2, pipeline: 2)] {
            #expect(try Self.generate(layout, requests) == single, "\(layout)")
        }
    }
}

/// Rank 0's streams, written by its thread and read after every rank finished.
final class StreamsBox: @unchecked Sendable { var streams: [[Int32]] = [] }
