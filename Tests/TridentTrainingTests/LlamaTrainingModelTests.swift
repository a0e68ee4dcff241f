import Foundation
import Testing
import TridentCollectives
import TridentKernels
import TridentModel
@testable import TridentTraining

/// Whole-model step-1 gradients of `LlamaTrainingModel` against the float64 autograd reference
/// fixtures (`Tests/Fixtures/training`), and tensor-parallel layouts against one rank.
@Suite struct LlamaTrainingModelTests {
    /// Step 1 of the fixtures: sequences 0 and 1 of LICENSE.txt (L = 32, B = 2), one micro-batch.
    /// Loss within 1e-5 relative; every parameter's gradient within 1e-4 × max |gradient| of
    /// that tensor (max abs error), for the untied f32 and the tied Q4_1 tiny models.
    @Test(arguments: ["tiny-llama-f32", "tiny-llama-q4_1"])
    func stepOneGradientsMatchReference(model name: String) throws {
        let model = TrainingFixtures.path("Tests/Fixtures/\(name).gguf")
        let reference = try TrainingFixtures.reference(name)
        let want = try TrainingFixtures.gradients(name, reference: reference)
        let sequences = try TrainingFixtures.sequences(model: model, reference: reference,
                                                       indices: reference.steps[0].sequences)
        let got = try gatheredGradients(tp: 1, sequences: sequences) {
            try LlamaTrainingModel(ggufPath: model, group: $0, pool: $1)
        }
        let loss = reference.steps[0].loss
        #expect(abs(got.loss - loss) <= 1e-5 * loss, "loss \(got.loss) vs \(loss)")
        #expect(got.order == reference.parameters.map(\.name))
        var worst = 0.0
        for p in reference.parameters {
            let error = errorRelativeToMax(try #require(got.gradients[p.name]), try #require(want[p.name]))
            worst = max(worst, error)
            #expect(error <= 1e-4, "\(p.name): \(error)")
        }
        print("\(name): loss \(got.loss) (reference \(loss)), worst gradient error / max |g| \(worst)")
    }

    /// TP 2 and 3 (4 heads / 2 KV heads: at TP 3 uneven heads and a KV head on two ranks) give
    /// one rank's loss (1e-5 relative) and full gradients (max abs error <= 1e-5 × max |g| per tensor).
    @Test(arguments: [2, 3])
    func tensorParallelEqualsOneRank(tp: Int) throws {
        let name = "tiny-llama-q4_1"
        let model = TrainingFixtures.path("Tests/Fixtures/\(name).gguf")
        let reference = try TrainingFixtures.reference(name)
        let sequences = try TrainingFixtures.sequences(model: model, reference: reference, indices: [0, 1])
        let build: @Sendable (any Communicator, ThreadPool) throws -> LlamaTrainingModel = {
            try LlamaTrainingModel(ggufPath: model, group: $0, pool: $1)
        }
        let one = try gatheredGradients(tp: 1, sequences: sequences, build: build)
        let many = try gatheredGradients(tp: tp, sequences: sequences, build: build)
        #expect(abs(many.loss - one.loss) <= 1e-5 * one.loss)
        #expect(Set(many.lossSums).count == 1, "ranks disagree on the loss: \(many.lossSums)")
        #expect(many.order == one.order)
        for name in one.order {
            let error = errorRelativeToMax(try #require(many.gradients[name]), try #require(one.gradients[name]))
            #expect(error <= 1e-5, "\(name) at TP \(tp): \(error)")
        }
    }

    /// SmolLM2-135M Q4_1, sequences 0 and 1 of LICENSE.txt at L = 64: step-1 loss and gradient
    /// norm within 1e-4 relative of the float64 reference (the project's acceptance bar).
    @Test func smolLM2StepOneLossAndGradientNorm() throws {
        let model = TrainingFixtures.path("models/SmolLM2-135M-Instruct.Q4_1.gguf")
        try #require(FileManager.default.fileExists(atPath: model), "models/SmolLM2-135M-Instruct.Q4_1.gguf is missing")
        let reference = try TrainingFixtures.reference("smollm2-q4_1")
        let sequences = try TrainingFixtures.sequences(model: model, reference: reference,
                                                       indices: reference.steps[0].sequences)
        let training = try LlamaTrainingModel(ggufPath: model, group: LocalCommunicator.makeGroup(size: 1)[0],
                                              pool: ThreadPool(threadCount: 2))
        let (lossSum, targets) = try training.accumulateGradients(sequences: sequences, denominator: 128)
        let loss = lossSum / Double(targets)
        var squares = 0.0
        for p in training.parameters { for g in p.gradient { squares += Double(g) * Double(g) } }
        let norm = squares.squareRoot()
        let want = reference.steps[0]
        print("SmolLM2 step 1: loss \(loss) (reference \(want.loss)), grad norm \(norm) (reference \(want.grad_norm))")
        #expect(targets == 128)
        #expect(abs(loss - want.loss) <= 1e-4 * want.loss)
        #expect(abs(norm - want.grad_norm) <= 1e-4 * want.grad_norm)
    }
}

/// The session-facing behaviour of `accumulateGradients`: readiness callbacks and micro-batches.
@Suite struct TrainableModelContractTests {
    static let modelPath = TrainingFixtures.path("Tests/Fixtures/tiny-llama-q4_1.gguf")

    static func load() throws -> LlamaTrainingModel {
        try LlamaTrainingModel(ggufPath: modelPath, group: LocalCommunicator.makeGroup(size: 1)[0],
                               pool: ThreadPool(threadCount: 1))
    }

    /// `gradientReady` fires once per parameter per micro-batch, with the gradient already final
    /// (the values seen in the callback equal those after the call), last for the tied embedding.
    @Test func gradientReadyFiresOnceWhenFinal() throws {
        let model = try Self.load()
        var seen: [Int: [Float]] = [:], order: [Int] = []
        model.gradientReady = { index in
            order.append(index)
            seen[index] = Array(model.parameters[index].gradient)
        }
        let data = VariantModelTests.sequences(vocabulary: 256, length: 16)
        _ = try model.accumulateGradients(sequences: data, denominator: 32)
        #expect(order.count == model.parameters.count && Set(order).count == order.count)
        #expect(order.last == 0, "the tied embedding is final only after the embedding backward")
        for (index, p) in model.parameters.enumerated() { #expect(seen[index] == Array(p.gradient), "\(p.name)") }
    }

    /// Two micro-batches of one sequence each, with the step's denominator, sum to the gradient
    /// of one micro-batch holding both (within 1e-5 × max |g| per tensor); the loss sums add up.
    @Test func microBatchesAccumulate() throws {
        let data = VariantModelTests.sequences(vocabulary: 256, length: 16)
        let one = try Self.load()
        let (whole, _) = try one.accumulateGradients(sequences: data, denominator: 32)
        let split = try Self.load()
        let (first, n1) = try split.accumulateGradients(sequences: [data[0]], denominator: 32)
        let (second, n2) = try split.accumulateGradients(sequences: [data[1]], denominator: 32)
        #expect(n1 + n2 == 32 && abs(first + second - whole) <= 1e-5 * whole)
        for (a, b) in zip(split.parameters, one.parameters) {
            #expect(errorRelativeToMax(Array(a.gradient), Array(b.gradient)) <= 1e-5, "\(a.name)")
        }
    }

    /// Bad input throws a clear error: ragged or empty sequences, a token outside the vocabulary.
    @Test func badSequencesThrow() throws {
        let model = try Self.load()
        #expect(throws: TrainingError.self) { try model.accumulateGradients(sequences: [[1, 2, 3], [1, 2]], denominator: 4) }
        #expect(throws: TrainingError.self) { try model.accumulateGradients(sequences: [[1, 2, 256]], denominator: 2) }
        #expect(throws: TrainingError.self) { try model.accumulateGradients(sequences: [], denominator: 1) }
    }
}
