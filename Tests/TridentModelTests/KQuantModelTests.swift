import Foundation
import Testing
import TridentCollectives
import TridentEngine
import TridentFormats
import TridentModel

/// Tiny random Llamas (dim 256, ffn 512, 4 / 2 heads) quantized by llama.cpp's
/// `llama-quantize` into its K-quant mixes (`scripts/reference/make_kquant_tiny.py`):
/// Q4_K_M holds Q4_K + Q6_K, Q3_K_M Q3_K + Q4_K + Q5_K + Q6_K, Q2_K Q2_K + Q3_K + Q6_K.
@Suite("K-quant models against the oracle and across tensor-parallel ranks")
struct KQuantModelTests {
    static let mixes = ["q4_k_m", "q3_k_m", "q2_k"]

    static func model(_ mix: String) -> String { OracleFixture.model("tiny-llama-256-\(mix).gguf") }

    /// The oracle computes in float64 on the same dequantized weights: 1e-3 relative to the
    /// largest logit covers float32 rounding.
    @Test("prefill logits of every position match the float64 oracle", arguments: mixes)
    func prefillLogits(mix: String) throws {
        let fixture = try OracleFixture.load("tiny256-\(mix).hello")
        let runner = try singleRankRunner(Self.model(mix))
        let logits = try runner.forward(tokens: fixture.tokens, slot: 0, start: 0, logits: .all)
        let expected = try fixture.allLogits()
        #expect(logits.count == expected.count)
        #expect(maxRelativeDifference(logits, expected) < 1e-3, "\(mix)")
    }

    @Test("greedy continuation equals the oracle's up to the first near-tie", arguments: mixes)
    func greedyContinuation(mix: String) throws {
        let fixture = try OracleFixture.load("tiny256-\(mix).hello")
        let expected = fixture.greedyBeforeNearTie(gap: 0.01)
        let (_, ids) = try greedyDecode(try singleRankRunner(Self.model(mix)), prompt: fixture.tokens, steps: expected.count)
        #expect(ids == Array(expected))
        #expect(expected.count >= 8, "the fixture should allow a meaningful comparison")
    }

    /// TP 2 cuts the 512-wide FFN at the 256-element super-block boundary (slices stay
    /// quantized); TP 3 and 4 must cut inside a super-block (those slices are read as f32),
    /// and every TP > 1 cuts attn_output inside one (64-wide heads).
    @Test("prefill logits within 1e-4 relative and 12 greedy ids at TP 2, 3, 4 equal TP 1",
          arguments: mixes, [2, 3, 4])
    func tensorParallelMatchesOneRank(mix: String, size: Int) throws {
        let prompt = try OracleFixture.load("tiny256-\(mix).hello").tokens
        func run(_ size: Int) throws -> (all: [Float], ids: [Int32]) {
            try withTensorParallel(Self.model(mix), size: size) { runner in
                let all = try runner.forward(tokens: prompt, slot: 0, start: 0, logits: .all)
                return (all, try greedyDecode(runner, prompt: prompt, steps: 12).ids)
            }
        }
        let reference = try run(1), parallel = try run(size)
        #expect(maxRelativeDifference(parallel.all, reference.all) < 1e-4, "\(mix) at TP=\(size)")
        #expect(parallel.ids == reference.ids, "\(mix) at TP=\(size)")
    }

    @Test("MLP cuts follow the down-projection's 256-element super-blocks")
    func mlpAlignment() throws {
        let file = try GGUFFile(path: Self.model("q4_k_m"))
        let c = try ModelConfiguration(gguf: file)
        let alignment = ShardingPlan.mlpAlignment(in: file, layerCount: c.layerCount)
        #expect(alignment == 256)
        let plans = try (0..<2).map { try ShardingPlan(configuration: c, tensorParallelSize: 2, rank: $0, alignment: alignment) }
        #expect(plans.map(\.mlpColumns) == [0..<256, 256..<512])
        let f32 = try GGUFFile(path: OracleFixture.model("tiny-llama-f32.gguf"))
        #expect(ShardingPlan.mlpAlignment(in: f32, layerCount: 2) == 32)
    }

    /// A copy of the Q4_K_M model whose `blk.0.attn_q.weight` is IQ2_XXS (no kernel):
    /// refused before any weight is read, naming the tensor, its type and the supported list.
    @Test("an unsupported tensor type is refused before loading, naming tensor, type and supported types")
    func unsupportedTypeRefused() throws {
        let source = try GGUFFile(path: Self.model("q4_k_m"))
        var writer = GGUFWriter()
        for key in source.metadataKeys where key != "general.alignment" { writer.add(key, source.metadata[key]!) }
        for t in source.tensors {
            if t.name == "blk.0.attn_q.weight" {
                let bytes = GGMLType.iq2_XXS.byteCount(elements: t.elementCount)!
                writer.addTensor(name: t.name, shape: t.shape, type: .iq2_XXS, bytes: [UInt8](repeating: 0, count: bytes))
            } else {
                writer.addTensor(name: t.name, shape: t.shape, type: t.type, bytes: [UInt8](source.bytes(of: t)))
            }
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("trident-kq-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("iq2.gguf").path
        try writer.write(to: path)

        let support = ModelSupport(file: try GGUFFile(path: path))
        #expect(support.unsupportedTensors == [.init(name: "blk.0.attn_q.weight", type: .iq2_XXS)])
        #expect(support.report.count == 1 && support.report[0].contains("IQ2_XXS") && support.report[0].contains("Q4_K"))
        let world = LocalCommunicator.makeGroup(size: 1)[0]
        let error = #expect(throws: ModelLoadingError.unsupportedTensorType(tensor: "blk.0.attn_q.weight", type: "IQ2_XXS")) {
            _ = try RankRuntime.load(path: path, world: world, threads: 1, capacity: 16)
        }
        let message = error.map { "\($0)" } ?? ""
        #expect(message.contains("IQ2_XXS") && message.contains("Q6_K") && message.contains("IQ4_XS"), "\(message)")
        #expect(ModelSupport(file: source).report == ["every tensor type and the architecture are supported"])
    }
}
