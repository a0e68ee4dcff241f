import Foundation
import Testing
import TridentCollectives
import TridentKernels
import TridentModel
@testable import TridentTraining

/// Training with RoPE scaling: the forward's loss on the scaled fixtures equals the float64
/// reference's, the backward (inverse rotation by the same scaled angles) matches central
/// differences, and TP 2 equals one rank.
@Suite struct RopeScalingTrainingTests {
    /// Mean next-token cross-entropy of the fixture's 48 tokens from its float64 reference logits.
    static func referenceLoss(_ name: String) throws -> (tokens: [Int32], loss: Double) {
        let directory = "Tests/Fixtures/architectures/"
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: TrainingFixtures.path(directory + name + ".json"))))
            as! [String: Any]
        let tokens = (meta["tokens"] as! [Int]).map(Int32.init)
        let logits = try Data(contentsOf: URL(fileURLWithPath: TrainingFixtures.path(directory + name + ".logits.bin")))
            .withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let vocabulary = logits.count / tokens.count
        var total = 0.0
        for t in 0 ..< tokens.count - 1 {
            let row = logits[t * vocabulary ..< (t + 1) * vocabulary].map(Double.init)
            let top = row.max()!
            let logSum = top + log(row.reduce(0) { $0 + exp($1 - top) })
            total += logSum - row[Int(tokens[t + 1])]
        }
        return (tokens, total / Double(tokens.count - 1))
    }

    /// float32 forward vs float64 logits: 1e-5 relative (plain RoPE would move logits by 1.45 / 6.4).
    @Test(arguments: ["tiny-llama3rope", "tiny-llama-linear", "tiny-llama-bias"])
    func lossEqualsTheReference(name: String) throws {
        let (tokens, want) = try Self.referenceLoss(name)
        let model = try LlamaTrainingModel(ggufPath: TrainingFixtures.path("Tests/Fixtures/architectures/\(name).gguf"),
                                           group: LocalCommunicator.makeGroup(size: 1)[0], pool: ThreadPool(threadCount: 1))
        let (lossSum, targets) = try model.accumulateGradients(sequences: [tokens], denominator: tokens.count - 1)
        #expect(targets == tokens.count - 1)
        #expect(abs(lossSum / Double(targets) - want) <= 1e-5 * want, "\(name): \(lossSum / Double(targets)) vs \(want)")
    }

    /// The plain-RoPE variant of `VariantModelTests` with per-pair factors on both sides of 1 and
    /// a linear factor: |g − fd| <= 2e-3 + 2e-2 |fd| (h = 5e-3, weights U(−0.4, 0.4)).
    static var configuration: ModelConfiguration {
        var c = ModelConfiguration(hiddenSize: 32, intermediateSize: 64, layerCount: 2, headCount: 4, kvHeadCount: 2,
                                   vocabularySize: 50, contextLength: 16)
        c.ropeScaling = RopeScaling(frequencyFactors: [0.3, 0.7, 2, 8], linearFactor: 0.5)
        return c
    }

    static let data: [[Int32]] = VariantModelTests.sequences(vocabulary: 50, length: 12)

    @Test func gradientsMatchFiniteDifferences() throws {
        let model = try LlamaTrainingModel(configuration: Self.configuration, seed: 5,
                                           group: LocalCommunicator.makeGroup(size: 1)[0], pool: ThreadPool(threadCount: 1))
        var random = SplitMix(state: 19)
        for p in model.parameters {
            for i in p.values.indices { p.values[i] = Float(random.next() % 8001) / 10_000 - 0.4 }
        }
        func loss() throws -> Double {
            model.zeroGradients()
            return try model.accumulateGradients(sequences: Self.data, denominator: 24).lossSum / 24
        }
        _ = try loss()
        let gradients = model.parameters.map { Array($0.gradient) }
        let h: Float = 5e-3
        for (index, p) in model.parameters.enumerated() where p.name.contains("attn_q") || p.name.contains("attn_k") {
            let largest = gradients[index].indices.max { abs(gradients[index][$0]) < abs(gradients[index][$1]) }!
            for entry in Set([largest, 1, p.values.count / 2 + 3]) {
                let saved = p.values[entry]
                p.values[entry] = saved + h
                let plus = try loss()
                p.values[entry] = saved - h
                let minus = try loss()
                p.values[entry] = saved
                let fd = (plus - minus) / Double(2 * h), g = Double(gradients[index][entry])
                #expect(abs(g - fd) <= 2e-3 + 2e-2 * abs(fd), "\(p.name)[\(entry)]: \(g) vs \(fd)")
            }
        }
    }

    /// Loss within 1e-5 relative, gradients within 1e-5 × max |g| per tensor.
    @Test func tensorParallelEqualsOneRank() throws {
        let c = Self.configuration
        let build: @Sendable (any Communicator, ThreadPool) throws -> LlamaTrainingModel = {
            try LlamaTrainingModel(configuration: c, seed: 11, group: $0, pool: $1)
        }
        let one = try gatheredGradients(tp: 1, sequences: Self.data, build: build)
        let two = try gatheredGradients(tp: 2, sequences: Self.data, build: build)
        #expect(abs(two.loss - one.loss) <= 1e-5 * one.loss)
        for name in one.order {
            let error = errorRelativeToMax(try #require(two.gradients[name]), try #require(one.gradients[name]), floor: 1e-4)
            #expect(error <= 1e-5, "\(name): \(error)")
        }
    }
}
