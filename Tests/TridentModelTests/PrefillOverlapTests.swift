import Foundation
import Testing
import TridentCollectives
import TridentFormats
import TridentKernels
@testable import TridentModel

/// `TRIDENT_TP_COMM_OVERLAP=1` for inference: a row-parallel layer of a pass of two rows or
/// more multiplies its rows in two halves, the first half's all-reduce running while the second
/// is multiplied. The sums are the same, so the logits must be the blocking run's.
@Suite("Tensor-parallel overlap in prefill")
struct PrefillOverlapTests {
    /// Logits of a 7-token prompt (every position) then of one decode token, at `size` ranks.
    static func logits(size: Int, overlap: Bool, model: String) throws -> [[Float]] {
        let path = OracleFixture.model(model)
        return try LocalCommunicator.run(size: size) { group -> [[Float]] in
            let file = try GGUFFile(path: path)
            let c = try ModelConfiguration(gguf: file)
            let plan = try ShardingPlan(configuration: c, tensorParallelSize: size, rank: group.rank)
            let weights = try LlamaWeights.load(from: GGUFTensorReader(file), configuration: c, plan: plan,
                                                layers: 0..<c.layerCount, includeEmbedding: true, includeHead: true)
            let cache = KVCache(layerCount: c.layerCount, capacity: 16, kvHeads: plan.kvHeads.count,
                                headDimension: c.headDimension)
            let stage = LlamaStage(configuration: c, plan: plan, layers: 0..<c.layerCount, weights: weights,
                                   cache: cache, tensorGroup: group, pool: ThreadPool(threadCount: 1))
            let overlapping = overlap && size > 1 ? TensorParallelOverlap() : nil
            stage.context.overlap = overlapping
            let prompt = try stage.forward(tokens: [1, 5, 9, 3, 11, 2, 8], slot: 0, start: 0, logits: .all)
            let next = try stage.forward(tokens: [7], slot: 0, start: 7, logits: .last)
            if let overlapping { #expect(overlapping.communicationSeconds > 0, "the halves were all-reduced in the background") }
            return [prompt, next]
        }[0]
    }

    @Test("TP 2: prefill and decode logits with the overlap equal to the blocking run's and to one rank's",
          arguments: ["tiny-llama-f32.gguf", "tiny-llama-q8_0.gguf"])
    func sameLogits(model: String) throws {
        let one = try Self.logits(size: 1, overlap: false, model: model)
        let blocking = try Self.logits(size: 2, overlap: false, model: model)
        let overlapped = try Self.logits(size: 2, overlap: true, model: model)
        for (part, name) in [(0, "prompt"), (1, "decode")] {
            #expect(overlapped[part].count == one[part].count && !one[part].isEmpty)
            let scale = one[part].map { abs($0) }.max() ?? 1
            let toBlocking = zip(overlapped[part], blocking[part]).map { abs($0 - $1) }.max() ?? 0
            let toOne = zip(overlapped[part], one[part]).map { abs($0 - $1) }.max() ?? 0
            #expect(toBlocking <= 1e-6 * scale, "\(model) \(name): \(toBlocking) from the blocking TP 2 run")
            #expect(toOne <= 1e-4 * scale, "\(model) \(name): \(toOne) from one rank")
        }
    }
}
