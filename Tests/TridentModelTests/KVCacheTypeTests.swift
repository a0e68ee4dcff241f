import Foundation
import Testing
import TridentCollectives
import TridentEngine
import TridentFormats
import TridentKernels
@testable import TridentModel
import TridentTokenizer

/// Loads `path` on one rank with a KV cache of `type`.
func singleRankRunner(_ path: String, capacity: Int, type: KVCacheType, threads: Int = 2) throws -> DistributedRunner {
    let world = LocalCommunicator.makeGroup(size: 1)[0]
    return DistributedRunner(runtime: try RankRuntime.load(path: path, world: world, threads: threads, capacity: capacity,
                                                           kvType: type))
}

/// The f16 KV cache and the tiled attention kernel inside whole models.
@Suite("KV cache types and the tiled attention in models")
struct KVCacheTypeTests {
    /// Logits of the "long" prompt of `variant` prefilled but for its last 3 tokens, then
    /// those decoded one at a time: `[prefill last logits] + [3 decode logits]`.
    static func decodeLogits(_ runner: DistributedRunner, variant: String) throws -> [[Float]] {
        let tokens = try OracleFixture.load("tiny-\(variant).long").tokens
        let split = tokens.count - 3
        var all = [try runner.forward(tokens: Array(tokens[..<split]), slot: 0, start: 0, logits: .last)]
        for position in split..<tokens.count {
            all.append(try runner.forward(tokens: [tokens[position]], slot: 0, start: position, logits: .last))
        }
        return all
    }

    @Test("an f16 cache stores keys and values rounded to binary16, in half the bytes")
    func f16CacheStoresRoundedRows() {
        let f32 = KVCache(layerCount: 2, slotCount: 2, capacity: 8, kvHeads: 3, headDimension: 5)
        let f16 = KVCache(layerCount: 2, slotCount: 2, capacity: 8, kvHeads: 3, headDimension: 5, type: .f16)
        #expect(f16.reservedBytes * 2 == f32.reservedBytes)
        let k = randomFloats(3 * 15, in: -100...100, seed: 1), v = randomFloats(3 * 15, seed: 2)
        f16.store(keys: k, values: v, count: 3, layer: 1, slot: 1, start: 4)
        let keys = f16.cachedKeys(layer: 1, slot: 1), values = f16.cachedValues(layer: 1, slot: 1)
        #expect(keys.type == .f16)
        let storedK = UnsafeBufferPointer(start: keys.base.assumingMemoryBound(to: UInt16.self) + 4 * 15, count: 45)
        let storedV = UnsafeBufferPointer(start: values.base.assumingMemoryBound(to: UInt16.self) + 4 * 15, count: 45)
        #expect(Array(storedK) == k.map(HalfConversion.f32ToF16Reference))
        #expect(Array(storedV) == v.map(HalfConversion.f32ToF16Reference))
        f32.store(keys: k, values: v, count: 3, layer: 0, slot: 0, start: 0)
        #expect(Array(UnsafeBufferPointer(start: f32.keys(layer: 0, slot: 0), count: 45)) == k)
    }

    @Test("the tiled kernel gives the first kernel's logits within 1e-4, prefill and decode",
          arguments: ["f32", "q8_0"])
    func tiledKernelMatchesFirstKernel(variant: String) throws {
        let path = OracleFixture.model("tiny-llama-\(variant).gguf")
        let tiled = try singleRankRunner(path, capacity: 256, type: .f32)
        let first = try singleRankRunner(path, capacity: 256, type: .f32)
        first.runtime.stage.context.attentionKernel = .scores
        #expect(tiled.runtime.stage.context.attentionKernel != .scores)
        let a = try Self.decodeLogits(tiled, variant: variant), b = try Self.decodeLogits(first, variant: variant)
        for (x, y) in zip(a, b) { #expect(maxAbsDifference(x, y) < 1e-4) }
    }

    /// f16 keys and values carry 11 significant bits: the tiny f32 model's logits (random
    /// weights, large activations) moved by at most 2.1e-2 over these steps when measured; a
    /// wrong conversion or layout moves them by O(1). The oracle's float64 logits are the
    /// reference for the prompt; the f32 cache for the decode steps.
    @Test("an f16 cache keeps the tiny model's logits within 3e-2 of the oracle's and the f32 cache's")
    func f16CacheNearOracle() throws {
        let fixture = try OracleFixture.load("tiny-f32.hello")
        let runner = try singleRankRunner(OracleFixture.model("tiny-llama-f32.gguf"), capacity: 256, type: .f16)
        let logits = try runner.forward(tokens: fixture.tokens, slot: 0, start: 0, logits: .all)
        let expected = try fixture.allLogits()
        #expect(maxAbsDifference(logits, expected) < 3e-2)
        let f32 = try singleRankRunner(OracleFixture.model("tiny-llama-f32.gguf"), capacity: 256, type: .f32)
        let a = try Self.decodeLogits(runner, variant: "f32"), b = try Self.decodeLogits(f32, variant: "f32")
        for (x, y) in zip(a, b) { #expect(maxAbsDifference(x, y) < 3e-2) }
    }

    /// The oracle check (`SmolLM2Tests.greedy`) stops at its first near-tie; past it, the
    /// tiled kernel must still pick what the first kernel picks (their logits differ by float32
    /// rounding only, far below any gap that decides a token here).
    @Test("greedy SmolLM2 ids with an f32 cache: the tiled kernel's equal the first kernel's for 40 tokens",
          .enabled(if: smolLM2Available, smolLM2Missing), arguments: SmolLM2Tests.prompts)
    func greedyF32Unchanged(name: String) throws {
        let fixture = try OracleFixture.load("smollm2-q4_1.\(name)")
        let tiled = try singleRankRunner(OracleFixture.smolLM2, capacity: 128, type: .f32)
        let first = try singleRankRunner(OracleFixture.smolLM2, capacity: 128, type: .f32)
        first.runtime.stage.context.attentionKernel = .scores
        let ids = try greedyDecode(tiled, prompt: fixture.tokens, steps: 40).ids
        #expect(ids == (try greedyDecode(first, prompt: fixture.tokens, steps: 40).ids))
        let oracle = fixture.greedyBeforeNearTie(gap: 0.05)
        let agreed = min(ids.count, oracle.count)
        #expect(Array(ids.prefix(agreed)) == Array(oracle.prefix(agreed)))
    }

    /// A context long enough that decode splits each KV head's positions over the threads.
    @Test("SmolLM2 after 700 tokens of context: tiled logits within 1e-3 of the first kernel's, same greedy ids",
          .enabled(if: smolLM2Available, smolLM2Missing))
    func longContextMatchesFirstKernel() throws {
        let tokens = try Self.licenseTokens().tokens
        let prompt = Array(tokens.prefix(700))
        let tiled = try singleRankRunner(OracleFixture.smolLM2, capacity: 720, type: .f32)
        let first = try singleRankRunner(OracleFixture.smolLM2, capacity: 720, type: .f32)
        first.runtime.stage.context.attentionKernel = .scores
        let a = try greedyDecode(tiled, prompt: prompt, steps: 12), b = try greedyDecode(first, prompt: prompt, steps: 12)
        #expect(maxAbsDifference(a.logits, b.logits) < 1e-3)
        #expect(a.ids == b.ids)
    }

    /// models/LICENSE.txt as SmolLM2 tokens, and the BOS token perplexity puts first.
    static func licenseTokens() throws -> (tokens: [Int32], bos: Int32?) {
        let license = URL(fileURLWithPath: OracleFixture.smolLM2).deletingLastPathComponent()
            .appendingPathComponent("LICENSE.txt")
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: OracleFixture.smolLM2))
        let tokens = tokenizer.encode(try String(contentsOf: license, encoding: .utf8), parseSpecial: false)
            .map { Int32($0) }
        return (tokens, tokenizer.vocabulary.addBOS ? tokenizer.vocabulary.bosId.map { Int32($0) } : nil)
    }

    @Test("SmolLM2 perplexity of models/LICENSE.txt at context 128 with an f16 cache within 0.1% of f32",
          .enabled(if: smolLM2Available, smolLM2Missing))
    func f16PerplexityWithinTenthOfAPercent() throws {
        let (tokens, bos) = try Self.licenseTokens()
        var perplexities: [KVCacheType: Double] = [:]
        for type in KVCacheType.allCases {
            let runner = try singleRankRunner(OracleFixture.smolLM2, capacity: 128, type: type)
            perplexities[type] = try PerplexityEvaluator.evaluate(runner: runner, tokens: tokens, context: 128, bos: bos)
                .perplexity
        }
        let f32 = try #require(perplexities[.f32]), f16 = try #require(perplexities[.f16])
        #expect(abs(f16 / f32 - 1) < 0.001, "f16 \(f16), f32 \(f32)")
    }
}
