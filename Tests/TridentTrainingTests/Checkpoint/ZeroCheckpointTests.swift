import Foundation
import Testing
import TridentCollectives
@testable import TridentTraining

@Suite("Checkpoints under ZeRO-1: moment slices that reshard to any layout", .serialized)
struct ZeroCheckpointTests {
    let tokens = llamaTokens(700)

    /// The checkpoint tests' settings with small buckets, so that ZeRO-1 slices cut rows of matrices.
    static func configuration(accumulate: Int, steps: Int) throws -> TrainingConfiguration {
        var c = try llamaConfiguration(accumulate: accumulate, steps: steps)
        c.bucketBytes = 4096
        return c
    }

    /// Every tensor's full moments `(m, v)` from the checkpoint under `root`.
    static func moments(_ root: String) throws -> [String: ([Float], [Float])] {
        let reader = try ShardedCheckpointReader(directory: try CheckpointDirectory.resolve(root))
        var out: [String: ([Float], [Float])] = [:]
        for tensor in reader.manifest.tensors {
            let region = TensorRegion(rows: 0..<tensor.shape[0], columns: 0..<(tensor.shape.count == 2 ? tensor.shape[1] : 1))
            var m = [Float](repeating: .nan, count: region.count), v = m
            try m.withUnsafeMutableBufferPointer { m in
                try v.withUnsafeMutableBufferPointer { v in
                    try reader.read(tensor.name, region: region, values: nil, firstMoment: m.baseAddress, secondMoment: v.baseAddress)
                }
            }
            out[tensor.name] = (m, v)
        }
        return out
    }

    @Test("saved with ZeRO-1 at TP2 x DP2: every element stored once, zeroStage 1, the same moments as plain DP's checkpoint")
    func manifestHoldsGlobalMoments() throws {
        let c = try Self.configuration(accumulate: 2, steps: 2)
        try withCheckpointDirectory { root in
            let zeroRoot = root + "/zero", plainRoot = root + "/plain"
            _ = try runZero(.fixture, tp: 2, dp: 2, zero: .optimizerStates, c, tokens: tokens,
                            afterStep: saving(to: zeroRoot, every: 2, tokens: tokens))
            _ = try runZero(.fixture, tp: 2, dp: 2, zero: .off, c, tokens: tokens, afterStep: saving(to: plainRoot, every: 2, tokens: tokens))
            let reader = try ShardedCheckpointReader(directory: try CheckpointDirectory.resolve(zeroRoot))
            try reader.verify()
            let manifest = reader.manifest
            #expect(manifest.layout.zeroStage == 1 && manifest.optimizer.stepCount == 2)
            #expect(try ShardedCheckpointReader(directory: try CheckpointDirectory.resolve(plainRoot)).manifest.layout.zeroStage == nil)
            for tensor in manifest.tensors {
                let stored = manifest.files.flatMap(\.slices).filter { $0.name == tensor.name }.reduce(0) { $0 + $1.region.count }
                #expect(stored == tensor.shape.reduce(1, *), "\(tensor.name): \(stored) elements stored")
            }
            // Each of the 4 ranks wrote a file; some slices are parts of rows (a bucket's cut).
            #expect(manifest.files.count == 4)
            #expect(manifest.files.flatMap(\.slices).contains { $0.rows[1] - $0.rows[0] == 1 && $0.columns[0] > 0 })
            let zero = try Self.moments(zeroRoot), plain = try Self.moments(plainRoot)
            #expect(Set(zero.keys) == Set(plain.keys))
            for (name, (m, v)) in zero {
                let (pm, pv) = try #require(plain[name])
                #expect(errorRelativeToMax(m, pm) <= 1e-6 && errorRelativeToMax(v, pv) <= 1e-6, "\(name)")
            }
        }
    }

    @Test("ZeRO-1 at DP 2 resumed with ZeRO-1 at DP 2 continues bit for bit")
    func sameLayoutBitForBit() throws {
        let c = try Self.configuration(accumulate: 2, steps: 4)
        let straight = try runZero(.fixture, dp: 2, zero: .optimizerStates, c, tokens: tokens)
        try withCheckpointDirectory { root in
            _ = try runZero(.fixture, dp: 2, zero: .optimizerStates, c, tokens: tokens, until: 2,
                            afterStep: saving(to: root, every: 2, tokens: tokens))
            let resumed = try runZero(.fixture, dp: 2, zero: .optimizerStates, c, tokens: tokens,
                                      prepare: { try CheckpointResume.resume($0, .directory(root)) })
            #expect(resumed.steps.map(\.step) == [3, 4])
            #expect(resumed.steps.map(\.loss) == straight.steps.suffix(2).map(\.loss))
            #expect(resumed.weights == straight.weights)
        }
    }

    /// (saved: tp, dp, zero, accumulate) -> (resumed: tp, dp, zero, accumulate), global batch 4.
    static let reshards: [((Int, Int, ZeroStage, Int), (Int, Int, ZeroStage, Int))] = [
        ((1, 2, .optimizerStates, 2), (1, 1, .off, 4)),
        ((1, 1, .off, 4), (1, 2, .optimizerStates, 2)),
        ((2, 2, .optimizerStates, 2), (3, 2, .optimizerStates, 2)),
        ((2, 2, .optimizerStates, 2), (1, 4, .optimizerStates, 1)),
        ((1, 4, .optimizerStates, 1), (2, 2, .off, 2)),
    ]

    @Test("saved with or without ZeRO-1, resumed at another TP/DP with ZeRO-1 on or off: steps 3 and 4 equal the uninterrupted run (1e-5)",
          arguments: Self.reshards)
    func reshard(saved: (Int, Int, ZeroStage, Int), resumed: (Int, Int, ZeroStage, Int)) throws {
        let first = try Self.configuration(accumulate: saved.3, steps: 4)
        let straight = try runZero(.fixture, tp: saved.0, dp: saved.1, zero: saved.2, first, tokens: tokens)
        try withCheckpointDirectory { root in
            _ = try runZero(.fixture, tp: saved.0, dp: saved.1, zero: saved.2, first, tokens: tokens, until: 2,
                            afterStep: saving(to: root, every: 2, tokens: tokens))
            let logs = LogLines()
            let run = try runZero(.fixture, tp: resumed.0, dp: resumed.1, zero: resumed.2,
                                  try Self.configuration(accumulate: resumed.3, steps: 4), tokens: tokens,
                                  prepare: { try CheckpointResume.resume($0, .directory(root), log: logs.add) })
            let zeroNow = resumed.2 == .optimizerStates && resumed.1 > 1 ? 1 : 0
            #expect(logs.lines.contains { $0.contains("--zero \(saved.2.rawValue), now") && $0.contains("--dp \(resumed.1) --zero \(zeroNow)") },
                    "\(logs.lines)")
            #expect(run.steps.map(\.step) == [3, 4])
            for (x, y) in zip(run.steps, straight.steps.suffix(2)) {
                #expect(abs(x.loss - y.loss) <= 1e-5 * y.loss, "step \(x.step): resumed \(x.loss), uninterrupted \(y.loss)")
                #expect(abs(x.gradientNorm - y.gradientNorm) <= 1e-4 * y.gradientNorm)
            }
        }
    }
}
