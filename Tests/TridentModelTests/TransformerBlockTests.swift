import Foundation
import Testing
import TridentCollectives
import TridentKernels
import TridentModel

/// Whole blocks and whole stages of small random models in every architecture the layers
/// support, against `Reference` (Double) and across tensor-parallel sizes.
@Suite("Transformer blocks and stages of random models")
struct TransformerBlockTests {
    /// The seed's own style (LayerNorm, biases, gated GELU, learned positions), a GPT-2-like
    /// plain ReLU MLP, and Llama's (RMSNorm, SwiGLU, RoPE) with tied embeddings.
    static let architectures: [(name: String, configuration: ModelConfiguration)] = [
        ("layer-norm gated-gelu biases learned", awkwardConfiguration(normalization: .layer, activation: .gelu,
                                                                      biases: true, positions: .learned)),
        ("layer-norm plain-relu rope", awkwardConfiguration(normalization: .layer, activation: .relu, gated: false)),
        ("llama tied", awkwardConfiguration(tied: true)),
    ]

    @Test("a block's forward equals h = x + attention(norm(x)); x = h + mlp(norm(h))", arguments: [0, 1, 2], [1, 3])
    func block(architecture: Int, size: Int) throws {
        let c = Self.architectures[architecture].configuration
        let model = RandomTransformer(c, seed: 41)
        let d = c.hiddenSize, rows = 6
        let x = randomActivations(rows: rows, width: d, seed: 42)
        let want = Reference.block(x.map(Double.init), model.blocks[1], c)
        let results = try onTensorRanks(c, size: size) { plan, context -> [Float] in
            let block = model.block(1, plan: plan)
            let cache = KVCache(layerCount: 1, capacity: 8, kvHeads: plan.kvHeads.count, headDimension: c.headDimension)
            let pass = PassLayout([SequenceChunk(slot: 0, start: 0, tokens: Array(repeating: 0, count: rows), logits: .none)],
                                  context: context)
            var stream = x
            return try withView(&stream, columns: d) { try block.forward($0, pass: pass, cache: cache, layer: 0, context: context) }
        }
        for (rank, got) in results.enumerated() {
            #expect(relativeError(got, want) < 1e-5, "\(Self.architectures[architecture].name) rank \(rank) of \(size)")
        }
    }

    /// All-position logits of a 5-token prefill, then the last logits of 2 decode steps, on `size`
    /// ranks of a stage built from `model`'s layers. - Returns: rank 0's results.
    static func stage(_ model: RandomTransformer, tokens: [Int32], size: Int) throws -> [[Float]] {
        let c = model.c
        let results = try LocalCommunicator.run(size: size) { group -> [[Float]] in
            let plan = try ShardingPlan(configuration: c, tensorParallelSize: size, rank: group.rank)
            let cache = KVCache(layerCount: c.layerCount, capacity: c.contextLength, kvHeads: plan.kvHeads.count,
                                headDimension: c.headDimension)
            let stage = LlamaStage(configuration: c, plan: plan, layers: 0 ..< c.layerCount,
                                   modules: model.modules(plan: plan), cache: cache, tensorGroup: group,
                                   pool: ThreadPool(threadCount: 1))
            var out = [try stage.forward(tokens: Array(tokens[..<5]), slot: 0, start: 0, logits: .all)]
            for position in 5 ..< tokens.count {
                out.append(try stage.forward(tokens: [tokens[position]], slot: 0, start: position, logits: .last))
            }
            return out
        }
        return results[0]
    }

    @Test("a whole stage's prefill and decode logits equal the reference model, at TP 1, 2, 3 (1e-5 relative)",
          arguments: [0, 1, 2], [1, 2, 3])
    func wholeStage(architecture: Int, size: Int) throws {
        let model = RandomTransformer(Self.architectures[architecture].configuration, seed: 43)
        let tokens: [Int32] = [3, 17, 0, 22, 9, 11, 5]
        let want = Reference.logits(model, tokens: tokens)
        let vocabulary = model.c.vocabularySize
        let got = try Self.stage(model, tokens: tokens, size: size)
        #expect(got.map(\.count) == [5 * vocabulary, vocabulary, vocabulary])
        #expect(relativeError(got[0], Array(want[..<(5 * vocabulary)])) < 1e-5)
        for step in 1 ... 2 {
            let row = (4 + step) * vocabulary
            #expect(relativeError(got[step], Array(want[row ..< row + vocabulary])) < 1e-5, "decode step \(step)")
        }
    }

    @Test("configurations round-trip through JSON, and a Llama config.json decodes to Llama's architecture")
    func configurationCoding() throws {
        let c = Self.architectures[0].configuration
        let data = try JSONEncoder().encode(c)
        #expect(try JSONDecoder().decode(ModelConfiguration.self, from: data) == c)
        let llama = #"{"hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 50}"#
        let decoded = try JSONDecoder().decode(ModelConfiguration.self, from: Data(llama.utf8))
        #expect(decoded.normalization == .rms && decoded.activation == .silu && decoded.gatedMLP
                && decoded.positionEncoding == .rope && !decoded.attentionBias && !decoded.mlpBias)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""normalization":"layer""#) && text.contains(#""hidden_act":"gelu""#)
                && text.contains(#""position_embedding_type":"learned""#))
    }

    @Test("stage timings: communication is the tensor group's time, compute the rest; reset zeroes both",
          arguments: [1, 2])
    func timings(size: Int) throws {
        let model = RandomTransformer(awkwardConfiguration(), seed: 44)
        let c = model.c
        let results = try LocalCommunicator.run(size: size) { group -> [Double] in
            let plan = try ShardingPlan(configuration: c, tensorParallelSize: size, rank: group.rank)
            let cache = KVCache(layerCount: c.layerCount, capacity: 8, kvHeads: plan.kvHeads.count,
                                headDimension: c.headDimension)
            let stage = LlamaStage(configuration: c, plan: plan, layers: 0 ..< c.layerCount,
                                   modules: model.modules(plan: plan), cache: cache, tensorGroup: group,
                                   pool: ThreadPool(threadCount: 1))
            let started = Date()
            _ = try stage.forward(tokens: [1, 2, 3], slot: 0, start: 0, logits: .last)
            let elapsed = Date().timeIntervalSince(started)
            let t = stage.timings
            stage.resetTimings()
            return [t.computeSeconds, t.communicationSeconds, elapsed, stage.timings.computeSeconds,
                    stage.timings.communicationSeconds]
        }
        for r in results {
            #expect(r[0] > 0 && r[0] + r[1] <= r[2] + 1e-3, "compute + communication fit in the pass")
            #expect(size == 1 ? r[1] == 0 : r[1] > 0, "a one-rank group does no communication")
            #expect(r[3] == 0 && r[4] == 0)
        }
    }
}
