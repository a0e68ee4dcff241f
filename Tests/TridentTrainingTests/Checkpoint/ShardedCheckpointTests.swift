import Foundation
import Testing
import TridentCollectives
@testable import TridentTraining

@Suite("Sharded checkpoints", .serialized)
struct ShardedCheckpointTests {
    let tokens = llamaTokens(700)

    @Test("6 steps straight equal 4 steps saved every 2 then resumed for 2, bit for bit (TP2 x DP2), sync and async saves",
          arguments: [false, true])
    func resumeIsBitForBit(asynchronous: Bool) throws {
        let configuration = try llamaConfiguration(accumulate: 2, steps: 6)
        let straight = try runLlama(tp: 2, dp: 2, configuration, tokens: tokens, until: 6)
        try withCheckpointDirectory { root in
            _ = try runLlama(tp: 2, dp: 2, configuration, tokens: tokens, until: 4,
                             afterStep: saving(to: root, every: 2, tokens: tokens, asynchronous: asynchronous))
            #expect(CheckpointDirectory.complete(root: root).map(\.step) == [4, 2])
            let tokens = self.tokens
            let resumed = try runLlama(tp: 2, dp: 2, configuration, tokens: tokens, until: 6, prepare: { session in
                try CheckpointResume.resume(session, .directory(root))
            })
            #expect(resumed.steps.map(\.step) == [5, 6])
            #expect(resumed.steps.map(\.loss) == straight.steps.suffix(2).map(\.loss))
            #expect(resumed.steps.map(\.gradientNorm) == straight.steps.suffix(2).map(\.gradientNorm))
            #expect(resumed.weights == straight.weights)
        }
    }

    @Test("the manifest records layout, heads, data position, optimizer, metrics and one checksummed file per writing rank")
    func manifestContents() throws {
        let configuration = try llamaConfiguration(accumulate: 2, steps: 2)
        try withCheckpointDirectory { root in
            let run = try runLlama(tp: 3, dp: 2, configuration, tokens: tokens, until: 2,
                                   afterStep: saving(to: root, every: 2, tokens: tokens))
            let reader = try ShardedCheckpointReader(directory: try CheckpointDirectory.resolve(root))
            let manifest = reader.manifest
            #expect(manifest.step == 2 && manifest.worldSize == 6 && manifest.globalBatch == 4)
            #expect(manifest.layout.tensorParallel == 3 && manifest.layout.dataParallel == 2)
            #expect(manifest.layout.queryHeads == [[0, 2], [2, 3], [3, 4]] && manifest.layout.kvHeads == [[0, 1], [1, 2], [1, 2]])
            #expect(manifest.data.sequencesConsumed == 8 && manifest.optimizer.stepCount == 2)
            #expect(manifest.metrics?.loss == run.steps.last?.loss)
            #expect(manifest.optimizer.nextLearningRate == configuration.schedule.rate(atStep: 3))
            // Every element of every tensor is stored exactly once.
            for tensor in manifest.tensors {
                let stored = manifest.files.flatMap(\.slices).filter { $0.name == tensor.name }.reduce(0) { $0 + $1.region.count }
                #expect(stored == tensor.shape.reduce(1, *), "\(tensor.name): \(stored) elements stored")
            }
            #expect(Set(manifest.files.map(\.rank)).count == manifest.files.count && manifest.files.count > 3)
            try reader.verify()
        }
    }

    @Test("saved at TP2 x DP2, resumed at TP1, TP3 (uneven heads), DP1 and DP4 with the same global batch: the next step equals the uninterrupted run",
          arguments: [(1, 1, 4), (3, 1, 4), (2, 1, 4), (1, 4, 1), (3, 2, 2)])
    func reshard(tp: Int, dp: Int, accumulate: Int) throws {
        let saved = try llamaConfiguration(accumulate: 2, steps: 3)
        let straight = try runLlama(tp: 2, dp: 2, saved, tokens: tokens, until: 3)
        try withCheckpointDirectory { root in
            _ = try runLlama(tp: 2, dp: 2, saved, tokens: tokens, until: 2, afterStep: saving(to: root, every: 2, tokens: tokens))
            let logs = LogLines()
            let resumed = try runLlama(tp: tp, dp: dp, try llamaConfiguration(accumulate: accumulate, steps: 3), tokens: tokens,
                                       until: 3, prepare: { session in
                try CheckpointResume.resume(session, .auto(root: root), log: logs.add)
            })
            #expect(logs.lines.contains { $0.contains("step-2") && $0.contains("now --tp \(tp) --pp 1 --dp \(dp)") }, "\(logs.lines)")
            let next = try #require(resumed.steps.first)
            #expect(next.step == 3)
            #expect(abs(next.loss - straight.steps[2].loss) <= 1e-5 * straight.steps[2].loss, "loss \(next.loss) vs \(straight.steps[2].loss)")
            #expect(abs(next.gradientNorm - straight.steps[2].gradientNorm) <= 1e-4 * straight.steps[2].gradientNorm)
            for (i, (x, y)) in zip(resumed.weights, straight.weights).enumerated() {
                #expect(close(x, y, relative: 1e-4), "parameter \(i) differs after the resharded step")
            }
        }
    }

    @Test("a resume with another global batch, other data or another model is refused saying why")
    func mismatchesRefused() throws {
        try withCheckpointDirectory { root in
            _ = try runLlama(dp: 2, try llamaConfiguration(accumulate: 1, steps: 2), tokens: tokens, until: 2,
                             afterStep: saving(to: root, every: 2, tokens: tokens))
            func refusal(_ configuration: TrainingConfiguration, tokens: [Int32]) -> String {
                do {
                    _ = try runLlama(configuration, tokens: tokens, until: 3, prepare: { session in
                        try CheckpointResume.resume(session, .directory(root))
                    })
                    return "resumed"
                } catch { return "\(error)" }
            }
            #expect(refusal(try llamaConfiguration(accumulate: 4, steps: 3), tokens: tokens).contains("global batch of 2 sequences"))
            #expect(refusal(try llamaConfiguration(accumulate: 2, steps: 3), tokens: llamaTokens(700, seed: 5)).contains("other data"))
            let toy = Result {
                _ = try runToy(try toyConfiguration(microBatch: 2, steps: 3), tokens: toyTokens(300), prepare: { session in
                    try CheckpointResume.resume(session, .directory(root))
                })
            }
            #expect(throws: CheckpointError.self) { try toy.get() }
            if case .failure(let error) = toy { #expect("\(error)".contains("another model")) }
        }
    }
}
