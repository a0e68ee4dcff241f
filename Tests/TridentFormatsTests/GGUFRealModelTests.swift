import Foundation
import Testing
import TridentFormats

/// SmolLM2-135M-Instruct Q4_1 (skipped when `models/` lacks it). Expected values from
/// gguf-py 0.19.0 (`GGUFReader`, `gguf.quants.dequantize`; `t.data_offset` is absolute).
struct GGUFRealModelTests {
    @Test(.enabled(if: Fixtures.smolLM2 != nil)) func smolLM2() throws {
        let file = try GGUFFile(path: try #require(Fixtures.smolLM2))
        #expect(file.fileSize == 98_362_432)
        #expect(file.version == 3 && file.dataOffset == 1_785_664)
        #expect(file.metadataKeys.count == 33)
        #expect(file.tensors.count == 272)
        #expect(file.tensors.filter { $0.type == .q4_1 }.count == 210)
        #expect(file.tensors.filter { $0.type == .f32 }.count == 61)
        #expect(file.tensors.filter { $0.type == .q8_0 }.map(\.name) == ["token_embd.weight"])
        #expect(file.tensor(named: "output.weight") == nil)
        #expect(try file.int("llama.block_count") == 30)
        #expect(try file.int("llama.embedding_length") == 576)
        #expect(try file.int("llama.attention.head_count") == 9)
        #expect(try file.int("llama.attention.head_count_kv") == 3)
        #expect(try file.float("llama.rope.freq_base") == 100_000)
        #expect(try file.string("tokenizer.ggml.pre") == "smollm")
        #expect(try file.string("tokenizer.chat_template").hasPrefix("{% for message in messages %}{% if loop.first"))
        let tokens = try file.stringArray("tokenizer.ggml.tokens")
        #expect(tokens.count == 49152 && tokens.first == "<|endoftext|>" && tokens.last == "ectable")
        let merges = try file.stringArray("tokenizer.ggml.merges")
        #expect(merges.count == 48900 && merges.first == "Ġ t" && merges.last == "ect able")

        let down = try #require(file.tensor(named: "blk.29.ffn_down.weight"))
        #expect(down.shape == [1536, 576] && down.type == .q4_1 && down.fileOffset == 80_630_848 && down.byteCount == 552_960)
        let last = try #require(file.tensors.last)
        #expect(last.name == "output_norm.weight" && last.fileOffset == 98_360_128 && last.byteCount == 2304)
        #expect(last.fileRange.upperBound == file.fileSize)
        let matrix = try file.matrix(named: "blk.29.ffn_down.weight")
        #expect(matrix.rows == 576 && matrix.columns == 1536 && matrix.dtype == .q4_1)
        let values = try file.floats(named: "blk.29.ffn_down.weight")
        #expect(Array(values.suffix(3)) == [0.203125, -0.08984375, 0.056640625])
        let norm = try file.floats(named: "output_norm.weight")
        #expect(Array(norm.prefix(3)) == [1.7578125, 1.8203125, 1.78125])
        #expect(abs(norm.reduce(0.0) { $0 + Double($1) } - 1038.33203) < 1e-4)
        let embedding = try file.matrix(named: "token_embd.weight")
        #expect(embedding.rows == 49152 && embedding.columns == 576 && embedding.dtype == .q8_0)
    }
}
