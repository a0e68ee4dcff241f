import Foundation
import Testing
import TridentKernels
@testable import TridentFormats

/// `QuantizationMix` against files llama.cpp's `llama-quantize` made (its choices are the
/// reference), plus the arithmetic of `use_more_bits` and the fallback table.
@Suite struct QuantizationMixTests {
    /// The GGML type called `name` (ggml's spelling, e.g. `Q4_K`).
    static func type(_ name: String) -> GGMLType? { GGMLType.allCases.first { "\($0)" == name } }

    /// n = 30: the first and last eighth (0-2, 26-29) and every third layer from 3 (5, 8, ..., 23).
    @Test func useMoreBitsForThirtyLayers() {
        let chosen = (0..<30).filter { QuantizationMix.useMoreBits($0, of: 30) }
        #expect(chosen == [0, 1, 2, 5, 8, 11, 14, 17, 20, 23, 26, 27, 28, 29])
        #expect((0..<2).filter { QuantizationMix.useMoreBits($0, of: 2) } == [1])
    }

    /// SmolLM2 (30 layers, 576-wide rows, tied embeddings): every tensor's type equals the
    /// one in llama.cpp's own Q4_K_M of the same model (Tests/Fixtures/quants/smollm2-q4_k_m-types.txt,
    /// made by scripts/reference/make_quantizer_fixtures.py), including the fallbacks
    /// Q4_K -> Q5_0 and Q6_K -> Q8_0 and the tied token_embd as output (Q8_0).
    @Test func smolLM2MixMatchesLlamaCpp() throws {
        let text = try String(contentsOfFile: Fixtures.path("quants/smollm2-q4_k_m-types.txt"), encoding: .utf8)
        // In the Q4_1 source's order (by name: blk.0, blk.1, blk.10, ...), not layer order.
        let rows = text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }.sorted { $0[0] < $1[0] }
        // The source is the Q4_1 file: 1-D tensors F32, matrices Q4_1.
        let inputs = rows.map { row in
            let shape = row[1].split(separator: ",").map { Int($0)! }
            return QuantizationInput(name: row[0], shape: shape, type: shape.count > 1 ? .q4_1 : .f32)
        }
        let plan = QuantizationMix.plan(inputs, scheme: .q4_k_m, layerCount: 30)
        #expect(plan.count == 272)
        for (row, choice) in zip(rows, plan) {
            #expect("\(choice.type)" == row[2], "\(row[0]): Trident \(choice.type), llama.cpp \(row[2])")
        }
        let fallbacks = plan.filter { $0.fallbackFrom != nil }
        #expect(fallbacks.count == 180, "llama.cpp reports 180 of 211 tensors needing a fallback")
        #expect(plan.first { $0.name == "token_embd.weight" }?.rule == "output (tied token_embd)")
        #expect(plan.filter(\.keepsBytes).allSatisfy { $0.type == .f32 })
    }

    /// A 2-layer, 256-wide model that llama.cpp quantized to Q4_K_M: re-planning its own
    /// tensors gives back exactly the types it holds (so every tensor is copied as stored).
    @Test func tinyKQuantModelPlansToItsOwnTypes() throws {
        let file = try GGUFFile(path: Fixtures.path("tiny-llama-256-q4_k_m.gguf"))
        let inputs = file.tensors.map { QuantizationInput(name: $0.name, shape: $0.shape, type: $0.type) }
        let plan = QuantizationMix.plan(inputs, scheme: .q4_k_m, layerCount: try file.int("llama.block_count"))
        for (tensor, choice) in zip(file.tensors, plan) {
            #expect(choice.type == tensor.type, "\(tensor.name): planned \(choice.type), stored \(tensor.type)")
            #expect(choice.keepsBytes)
        }
        #expect(plan.first { $0.name == "blk.1.attn_v.weight" }?.rule == "attn_v more bits")
    }

    /// Single-type schemes: every matrix gets the base type or its fallback; 1-D tensors and
    /// norms are copied; Q5_K_M gives fused QKV Q6_K and Q4_K_M Q5_K.
    @Test func singleTypesAndFallbacks() {
        let inputs = [
            QuantizationInput(name: "token_embd.weight", shape: [576, 100], type: .f16),
            QuantizationInput(name: "blk.0.attn_norm.weight", shape: [576], type: .f32),
            QuantizationInput(name: "blk.0.attn_q.weight", shape: [512, 512], type: .f16),
            QuantizationInput(name: "blk.0.ffn_down.weight", shape: [100, 512], type: .f16),
            QuantizationInput(name: "output.weight", shape: [576, 100], type: .f16),
        ]
        let expected: [QuantizationScheme: [GGMLType]] = [
            .q4_k: [.q5_0, .f32, .q4_K, .f16, .q5_0],
            .q5_k: [.q5_1, .f32, .q5_K, .f16, .q5_1],
            .q6_k: [.q8_0, .f32, .q6_K, .f16, .q8_0],
            .q8_0: [.q8_0, .f32, .q8_0, .f16, .q8_0],
            .q4_1: [.q4_1, .f32, .q4_1, .f16, .q4_1],
            // output: 576 % 256 != 0 -> Q8_0 directly; ffn_down of layer 0 of 1 gets more bits.
            .q4_k_m: [.q5_0, .f32, .q4_K, .f16, .q8_0],
        ]
        for (scheme, types) in expected {
            let plan = QuantizationMix.plan(inputs, scheme: scheme, layerCount: 1)
            #expect(plan.map(\.type) == types, "\(scheme)")
            #expect(plan[1].keepsBytes && !plan[2].keepsBytes, "\(scheme)")
        }
        let fused = [QuantizationInput(name: "blk.0.attn_qkv.weight", shape: [256, 768], type: .f32)]
        #expect(QuantizationMix.plan(fused, scheme: .q4_k_m, layerCount: 1).map(\.type) == [.q5_K])
        #expect(QuantizationMix.plan(fused, scheme: .q5_k_m, layerCount: 1).map(\.type) == [.q6_K])
        #expect(QuantizationScheme.allCases.map(\.fileType) == [7, 2, 3, 8, 9, 14, 16, 18, 15, 17])
    }
}
