import Foundation
import Testing
import TridentCollectives
import TridentKernels
import TridentModel
@testable import TridentTraining

/// Architecture variants from random initialisation: the seed's style (LayerNorm with bias,
/// gated GELU, biases everywhere, learned positions) and a plain ReLU MLP with RMSNorm, RoPE,
/// MLP biases and tied embeddings.
@Suite struct VariantModelTests {
    static func configuration(seedStyle: Bool) -> ModelConfiguration {
        var c = ModelConfiguration(hiddenSize: 32, intermediateSize: 64, layerCount: 2, headCount: 4, kvHeadCount: 2,
                                   vocabularySize: 50, contextLength: 16, tiedEmbeddings: !seedStyle)
        if seedStyle {
            c.normalization = .layer
            c.activation = .gelu
            c.attentionBias = true
            c.mlpBias = true
            c.positionEncoding = .learned
        } else {
            c.gatedMLP = false
            c.activation = .relu
            c.mlpBias = true
        }
        return c
    }

    static func sequences(vocabulary: Int, length: Int) -> [[Int32]] {
        (0 ..< 2).map { s in (0 ... length).map { Int32(($0 * 7 + s * 13 + $0 * $0) % vocabulary) } }
    }

    /// Gradients of a few entries per parameter (the largest and two others) against central
    /// differences of the float32 loss (h = 5e-3, weights redrawn U(−0.4, 0.4) so gradients
    /// are of order 0.01–1): |g − fd| <= 2e-3 + 2e-2 |fd|.
    @Test(arguments: [true, false])
    func gradientsMatchFiniteDifferences(seedStyle: Bool) throws {
        let c = Self.configuration(seedStyle: seedStyle)
        let model = try LlamaTrainingModel(configuration: c, seed: 5, group: LocalCommunicator.makeGroup(size: 1)[0],
                                           pool: ThreadPool(threadCount: 1))
        var random = SplitMix(state: 9)
        for p in model.parameters {
            for i in p.values.indices { p.values[i] = Float(random.next() % 8001) / 10_000 - 0.4 }
        }
        let data = Self.sequences(vocabulary: c.vocabularySize, length: 12)
        let denominator = 24
        func loss() throws -> Double {
            model.zeroGradients()
            return try model.accumulateGradients(sequences: data, denominator: denominator).lossSum / Double(denominator)
        }
        _ = try loss()
        let gradients = model.parameters.map { Array($0.gradient) }
        let h: Float = 5e-3
        for (index, p) in model.parameters.enumerated() {
            let largest = gradients[index].indices.max { abs(gradients[index][$0]) < abs(gradients[index][$1]) }!
            for entry in Set([largest, 0, p.values.count / 2]) {
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

    /// TP 2 and 3 from the same seed equal one rank: loss within 1e-5 relative, full gradients
    /// within 1e-5 × max(max |g| per tensor, 1e-4) (TP 3: uneven heads, a KV head on two ranks,
    /// uneven MLP). The floor: without RoPE the key bias's gradient is zero in exact arithmetic
    /// (it shifts every score of a query alike), so its values are round-off of order 1e-9.
    @Test(arguments: [(true, 2), (true, 3), (false, 2), (false, 3)])
    func tensorParallelEqualsOneRank(seedStyle: Bool, tp: Int) throws {
        let c = Self.configuration(seedStyle: seedStyle)
        let data = Self.sequences(vocabulary: c.vocabularySize, length: 12)
        let build: @Sendable (any Communicator, ThreadPool) throws -> LlamaTrainingModel = {
            try LlamaTrainingModel(configuration: c, seed: 11, group: $0, pool: $1)
        }
        let one = try gatheredGradients(tp: 1, sequences: data, build: build)
        let many = try gatheredGradients(tp: tp, sequences: data, build: build)
        #expect(abs(many.loss - one.loss) <= 1e-5 * one.loss)
        #expect(many.order == one.order)
        for name in one.order {
            let error = errorRelativeToMax(try #require(many.gradients[name]), try #require(one.gradients[name]),
                                           floor: 1e-4)
            #expect(error <= 1e-5, "\(name) at TP \(tp): \(error)")
        }
    }

    /// Random initialisation is layout-independent: rank 1 of TP 2 holds exactly its slice of
    /// the one-rank tensors (std 0.02, output projections 0.02 / sqrt(2 · layers)).
    @Test func randomInitialisationIsTheSameInEveryLayout() throws {
        let c = Self.configuration(seedStyle: true)
        let one = try gatheredGradients(tp: 1, sequences: Self.sequences(vocabulary: 50, length: 4)) {
            try LlamaTrainingModel(configuration: c, seed: 3, group: $0, pool: $1)
        }
        #expect(one.order.first == "token_embd.weight" && one.order.contains("position_embd.weight"))
        let single = try LlamaTrainingModel(configuration: c, seed: 3, group: LocalCommunicator.makeGroup(size: 1)[0],
                                            pool: ThreadPool(threadCount: 1))
        let values = try LocalCommunicator.run(size: 2) { comm in
            let model = try LlamaTrainingModel(configuration: c, seed: 3, group: comm, pool: ThreadPool(threadCount: 1))
            let p = model.parameters.first { $0.name == "blk.1.attn_output.weight" }!
            return (p.shardColumns!, Array(p.values))
        }
        let full = single.parameters.first { $0.name == "blk.1.attn_output.weight" }!
        let (columns, slice) = values[1]
        for r in 0 ..< 32 { for (j, col) in columns.enumerated() { #expect(slice[r * columns.count + j] == full.values[r * 32 + col]) } }
        let std = (full.values.map { Double($0) * Double($0) }.reduce(0, +) / Double(full.values.count)).squareRoot()
        #expect(abs(std - 0.01) < 0.002, "output projection std \(std), want 0.02 / sqrt(4)")
    }
}

struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
