import Foundation
import Testing
import TridentCollectives
import TridentTraining

/// One layout's run of the toy model: every step's statistics (world rank 0) and the full
/// weights at the end, gathered from the tensor shards.
struct ToyRun: Sendable {
    var steps: [StepStatistics]
    var weights: [[Float]]
}

/// A token stream of `count` ids below the toy vocabulary, from a seed.
func toyTokens(_ count: Int, seed: UInt64 = 11) -> [Int32] {
    var generator = ToyGenerator(state: seed)
    return (0..<count).map { _ in Int32.random(in: 0..<13, using: &generator) }
}

func toyConfiguration(seqLen: Int = 8, microBatch: Int, accumulate: Int = 1, steps: Int = 3, lr: Double = 0.05,
                      schedule: LearningRateSchedule.Kind = .constant, warmup: Int = 0, clip: Double = 0,
                      decay: Float = 0.1, shuffle: Bool = false, bucketBytes: Int = 25 << 20) throws -> TrainingConfiguration {
    TrainingConfiguration(sequenceLength: seqLen, microBatch: microBatch, accumulation: accumulate,
                          schedule: try LearningRateSchedule(kind: schedule, learningRate: lr, minLearningRate: lr / 10,
                                                             warmupSteps: warmup, totalSteps: steps),
                          optimizer: AdamWConfiguration(weightDecay: decay), clipNorm: clip, seed: 5, shuffle: shuffle,
                          bucketBytes: bucketBytes)
}

/// Runs `steps` optimizer steps of the toy model on a `tp x dp` grid of threads.
/// `prepare` sees each rank's session before its first step (e.g. to resume it).
func runToy(tp: Int = 1, dp: Int = 1, _ configuration: TrainingConfiguration, tokens: [Int32], steps: Int? = nil,
            prepare: @escaping @Sendable (TrainingSession) throws -> Void = { _ in },
            finish: @escaping @Sendable (TrainingSession) throws -> Void = { _ in }) throws -> ToyRun {
    let layout = try ParallelLayout(tensor: tp, pipeline: 1, data: dp)
    let runs = try LocalCommunicator.run(size: layout.worldSize) { world -> ToyRun? in
        let groups = try ProcessGroups.make(world: world, layout: layout)
        let model = ToyTrainableModel(tensorGroup: groups.tensor)
        let session = try TrainingSession(model: model, groups: groups, configuration: configuration, tokens: tokens,
                                          pool: model.pool)
        try prepare(session)
        var stats: [StepStatistics] = []
        while session.completedSteps < (steps ?? configuration.steps) { stats.append(try session.step()) }
        try finish(session)
        guard groups.coordinates.data == 0 else { return nil }
        let weights = try ParameterGathering.byName(model.parameters).map { try ParameterGathering.gather($0, tensorGroup: groups.tensor) }
        return world.rank == 0 ? ToyRun(steps: stats, weights: weights.map { $0! }) : nil
    }
    return runs[0]!
}

/// |a − b| ≤ tolerance · max(|a|, |b|, 1e-3) element by element.
func close(_ a: [Float], _ b: [Float], relative tolerance: Float) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(abs($0), abs($1), 1e-3) }
}

func expectSameRun(_ a: ToyRun, _ b: ToyRun, relative tolerance: Double = 1e-5) {
    #expect(a.steps.count == b.steps.count)
    for (x, y) in zip(a.steps, b.steps) {
        #expect(x.step == y.step && x.tokens == y.tokens && x.learningRate == y.learningRate)
        #expect(abs(x.loss - y.loss) <= tolerance * abs(y.loss), "step \(x.step) loss \(x.loss) vs \(y.loss)")
        #expect(abs(x.gradientNorm - y.gradientNorm) <= tolerance * abs(y.gradientNorm),
                "step \(x.step) grad norm \(x.gradientNorm) vs \(y.gradientNorm)")
    }
    for (i, (x, y)) in zip(a.weights, b.weights).enumerated() {
        #expect(close(x, y, relative: Float(tolerance)), "parameter \(i) differs")
    }
}

@Suite("TrainingSession")
struct TrainingSessionTests {
    let tokens = toyTokens(300)

    @Test("data parallel 2 equals one rank on the same global batch")
    func dataParallelEqualsOneRank() throws {
        let one = try runToy(try toyConfiguration(microBatch: 4), tokens: tokens)
        let two = try runToy(dp: 2, try toyConfiguration(microBatch: 2), tokens: tokens)
        // Tiny buckets: each parameter in its own bucket (in place), and the two-parameter path too.
        let small = try runToy(dp: 2, try toyConfiguration(microBatch: 2, bucketBytes: 40), tokens: tokens)
        expectSameRun(two, one)
        expectSameRun(small, one)
        #expect(one.steps[0].tokens == 4 * 8)
    }

    @Test("DP 2 x accumulate 2 equals one rank x accumulate 4")
    func accumulationEqualsOneRank() throws {
        let one = try runToy(try toyConfiguration(microBatch: 1, accumulate: 4), tokens: tokens)
        let two = try runToy(dp: 2, try toyConfiguration(microBatch: 1, accumulate: 2), tokens: tokens)
        let plain = try runToy(try toyConfiguration(microBatch: 4), tokens: tokens)
        expectSameRun(two, one)
        expectSameRun(plain, one)
    }

    @Test("tensor parallel 2 and 3 (uneven vocabulary) and TP 2 x DP 2 equal one rank")
    func tensorParallelEqualsOneRank() throws {
        let one = try runToy(try toyConfiguration(microBatch: 4, clip: 0.5), tokens: tokens)
        expectSameRun(try runToy(tp: 2, try toyConfiguration(microBatch: 4, clip: 0.5), tokens: tokens), one)
        expectSameRun(try runToy(tp: 3, try toyConfiguration(microBatch: 4, clip: 0.5), tokens: tokens), one)
        expectSameRun(try runToy(tp: 2, dp: 2, try toyConfiguration(microBatch: 2, clip: 0.5), tokens: tokens), one)
    }

    @Test("the first step's loss is the mean cross-entropy of an independent evaluation")
    func lossIsMeanOverTargets() throws {
        let configuration = try toyConfiguration(microBatch: 2, accumulate: 2, steps: 1)
        let run = try runToy(configuration, tokens: tokens)
        let model = ToyTrainableModel(tensorGroup: LocalCommunicator.makeGroup(size: 1)[0])
        let E = Array(model.parameters[0].values), b = Array(model.parameters[1].values), W = Array(model.parameters[2].values)
        var total: Double = 0
        for k in 0..<4 {
            for t in (k * 8)..<(k * 8 + 8) {
                let h = (0..<6).map { Double(tanhf(E[Int(tokens[t]) * 6 + $0])) + Double(b[$0]) }
                let logits = (0..<13).map { v in (0..<6).reduce(0.0) { $0 + Double(W[v * 6 + $1]) * h[$1] } }
                let top = logits.max()!
                total += log(logits.reduce(0) { $0 + exp($1 - top) }) + top - logits[Int(tokens[t + 1])]
            }
        }
        #expect(abs(run.steps[0].loss - total / 32) <= 1e-5 * total / 32)
    }

    @Test("clipping scales the gradients to --clip-norm; the norm reported is before clipping")
    func clippingApplied() throws {
        let configuration = try toyConfiguration(microBatch: 2, steps: 1, clip: 0.01)
        let clipped = ClippedGradients()
        let run = try runToy(configuration, tokens: tokens, finish: { session in
            clipped.norm = try GradientClipping.globalNorm(
                session.model.parameters.map { TaggedGradient($0.gradient, sharing: $0.sharing) },
                tensorGroup: session.groups.tensor)
        })
        #expect(run.steps[0].gradientNorm > 0.1)
        #expect(abs(clipped.norm - 0.01) < 1e-6)
        let unclipped = try runToy(try toyConfiguration(microBatch: 2, steps: 1), tokens: tokens)
        #expect(abs(unclipped.steps[0].gradientNorm - run.steps[0].gradientNorm) < 1e-6 * run.steps[0].gradientNorm)
    }

    @Test("each step uses the schedule's rate; the first AdamW step moves weights by about lr")
    func scheduleApplied() throws {
        let configuration = try toyConfiguration(microBatch: 2, steps: 6, lr: 0.02, schedule: .cosine, warmup: 2, decay: 0)
        let run = try runToy(configuration, tokens: tokens)
        for stats in run.steps { #expect(stats.learningRate == configuration.schedule.rate(atStep: stats.step)) }
        #expect(run.steps[0].learningRate == 0.01 && run.steps[1].learningRate == 0.02 && run.steps[5].learningRate == 0.002)
        let first = try runToy(configuration, tokens: tokens, steps: 1)
        let start = ToyTrainableModel(tensorGroup: LocalCommunicator.makeGroup(size: 1)[0])
        let moved = zip(first.weights[2], start.parameters[2].values).map { abs($0 - $1) }
        // Step 1 of AdamW: |Δp| = lr · |g| / (|g| + eps), lr at step 1 = 0.01, no decay.
        #expect(moved.allSatisfy { $0 <= 0.01 * 1.0001 } && moved.max()! > 0.0099)
    }

    @Test("a run resumed from a saved state equals the uninterrupted run, bit for bit")
    func resumeEqualsUninterrupted() throws {
        let configuration = try toyConfiguration(microBatch: 2, accumulate: 2, steps: 5, schedule: .cosine, warmup: 1,
                                                 clip: 1, shuffle: true)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("trident-resume-\(UInt32.random(in: 0 ... .max))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let straight = try runToy(tp: 2, dp: 2, configuration, tokens: tokens)
        let tokens = self.tokens
        _ = try runToy(tp: 2, dp: 2, configuration, tokens: tokens, steps: 3, finish: { session in
            try ShardedCheckpointWriter(root: directory, tokens: tokens).save(session, metrics: nil)
        })
        let resumed = try runToy(tp: 2, dp: 2, configuration, tokens: tokens, prepare: { session in
            try CheckpointResume.resume(session, .directory(directory))
        })
        #expect(resumed.steps.map(\.step) == [4, 5])
        #expect(resumed.steps == Array(straight.steps[3...]).map { stats in
            var same = stats
            same.seconds = resumed.steps[stats.step - 4].seconds
            same.tensorCommunicationSeconds = resumed.steps[stats.step - 4].tensorCommunicationSeconds
            same.dataCommunicationSeconds = resumed.steps[stats.step - 4].dataCommunicationSeconds
            same.exposedDataCommunicationSeconds = resumed.steps[stats.step - 4].exposedDataCommunicationSeconds
            return same
        })
        #expect(resumed.weights == straight.weights)
    }

    @Test("resume refuses another global batch, other settings, other data, another model and a damaged file")
    func resumeMismatches() throws {
        let configuration = try toyConfiguration(microBatch: 2, steps: 4)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("trident-mismatch-\(UInt32.random(in: 0 ... .max))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tokens = self.tokens
        _ = try runToy(configuration, tokens: tokens, steps: 2, finish: { session in
            try ShardedCheckpointWriter(root: directory, tokens: tokens).save(session, metrics: nil)
        })
        let manifest = try ShardedCheckpointReader(directory: try CheckpointDirectory.resolve(directory))
        let one = LocalCommunicator.makeGroup(size: 1)[0]
        func session(_ configuration: TrainingConfiguration, tokens: [Int32], vocabulary: Int = 13) throws -> TrainingSession {
            let model = ToyTrainableModel(vocabulary: vocabulary, tensorGroup: one)
            return try TrainingSession(model: model, groups: .single(), configuration: configuration, tokens: tokens, pool: model.pool)
        }
        #expect(manifest.mismatch(with: try session(configuration, tokens: tokens)) == nil)
        #expect(manifest.mismatch(with: try session(try toyConfiguration(microBatch: 3, steps: 4), tokens: tokens))?.contains("global batch") == true)
        #expect(manifest.mismatch(with: try session(try toyConfiguration(microBatch: 2, steps: 4, lr: 0.01), tokens: tokens))?.contains("--lr") == true)
        #expect(manifest.mismatch(with: try session(configuration, tokens: Array(tokens.dropLast())))?.contains("other data") == true)
        #expect(manifest.mismatch(with: try session(configuration, tokens: tokens, vocabulary: 14))?.contains("another model") == true)
        #expect(manifest.mismatch(with: try session(try toyConfiguration(microBatch: 2, steps: 2), tokens: tokens))?.contains("already") == true)
        let path = manifest.directory + "/" + manifest.manifest.files[0].path
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.dropLast(4).write(to: URL(fileURLWithPath: path))
        #expect(throws: CheckpointError.self) { try manifest.verify() }
        #expect(throws: CheckpointError.self) { try ShardedCheckpointReader(directory: try CheckpointDirectory.resolve(directory)).load(into: try session(configuration, tokens: tokens)) }
        #expect(throws: CheckpointError.self) { try CheckpointDirectory.resolve(directory + "/nowhere") }
    }

    @Test("bad inputs: data shorter than one sequence, out-of-range settings")
    func badInputs() throws {
        let model = ToyTrainableModel(tensorGroup: LocalCommunicator.makeGroup(size: 1)[0])
        #expect(throws: TrainingError.dataTooShort(tokens: 8, needed: 9)) {
            try TrainingSession(model: model, groups: .single(), configuration: try toyConfiguration(microBatch: 1),
                                tokens: Array(tokens.prefix(8)), pool: model.pool)
        }
        var negativeClip = try toyConfiguration(microBatch: 1)
        negativeClip.clipNorm = -1
        #expect(throws: TrainingError.self) {
            try TrainingSession(model: model, groups: .single(), configuration: negativeClip, tokens: tokens, pool: model.pool)
        }
        var badBeta = try toyConfiguration(microBatch: 1)
        badBeta.optimizer.beta2 = 1
        #expect(throws: TrainingError.self) {
            try TrainingSession(model: model, groups: .single(), configuration: badBeta, tokens: tokens, pool: model.pool)
        }
    }
}

/// The gradient norm seen after a step (written by the rank-0 thread, read after the run).
final class ClippedGradients: @unchecked Sendable { var norm: Double = 0 }
