import Testing
import TridentKernels
import TridentFormats

/// Expected values obtained with gguf-py 0.19.0 (`gguf.GGUFReader(path)`: `len(r.tensors)`,
/// `r.data_offset`, `t.shape`, `t.tensor_type`, `t.data_offset - r.data_offset`, `t.n_bytes`,
/// `r.fields[k].contents()`) and `gguf.quants.dequantize(t.data, t.tensor_type)` for values.
struct GGUFTinyModelTests {
    struct Model: Sendable, CustomTestStringConvertible {
        let file: String
        let tensorCount: Int
        let dataOffset: Int
        let fileType: Int
        /// type of blk.*.attn_q.weight, of token_embd.weight, and whether output.weight exists
        let matrixType: GGMLType
        let embeddingType: GGMLType
        let hasOutput: Bool
        /// (name, byte offset in data section, byte count) of a few tensors
        let layout: [(String, Int, Int)]
        /// attn_q of layer 0: sum of all values, row 0 columns 0..2, last element
        let attnQSum: Double
        let attnQRow0: [Float]
        let attnQLast: Float
        var testDescription: String { file }
    }

    static let models: [Model] = [
        Model(file: "tiny-llama-f32.gguf", tensorCount: 21, dataOffset: 5632, fileType: 0,
              matrixType: .f32, embeddingType: .f32, hasOutput: true,
              layout: [("blk.0.attn_q.weight", 65792, 16384), ("blk.1.ffn_down.weight", 328704, 32768),
                       ("output.weight", 361728, 65536)],
              attnQSum: -7.8195176, attnQRow0: [-0.1129431277513504, -0.2690991759300232, -0.1798868477344513],
              attnQLast: -0.20323358476161957),
        Model(file: "tiny-llama-q8_0.gguf", tensorCount: 21, dataOffset: 5632, fileType: 7,
              matrixType: .q8_0, embeddingType: .q8_0, hasOutput: true,
              layout: [("blk.0.attn_q.weight", 17664, 4352), ("blk.1.ffn_down.weight", 88064, 8704),
                       ("output.weight", 97024, 17408)],
              attnQSum: -7.97497749, attnQRow0: [-0.11257553100585938, -0.2710151672363281, -0.17928695678710938],
              attnQLast: -0.20203399658203125),
        Model(file: "tiny-llama-q4_1.gguf", tensorCount: 20, dataOffset: 5600, fileType: 3,
              matrixType: .q4_1, embeddingType: .q8_0, hasOutput: false,
              layout: [("blk.0.attn_q.weight", 17664, 2560), ("blk.1.ffn_down.weight", 59392, 5120),
                       ("output_norm.weight", 64512, 256)],
              attnQSum: -8.39962769, attnQRow0: [-0.107421875, -0.248046875, -0.177734375],
              attnQLast: -0.198486328125),
    ]

    @Test(arguments: models) func headerAndMetadata(model: Model) throws {
        let file = try GGUFFile(path: Fixtures.path(model.file))
        #expect(file.version == 3)
        #expect(file.alignment == 32)
        #expect(file.dataOffset == model.dataOffset)
        #expect(file.metadataKeys.count == 21)
        #expect(file.metadataKeys.first == "general.architecture")
        #expect(file.metadataKeys.last == "tokenizer.ggml.add_bos_token")
        #expect(try file.architecture == "llama")
        #expect(try file.string("general.name") + ".gguf" == model.file)
        #expect(try file.int("llama.block_count") == 2)
        #expect(try file.int("llama.embedding_length") == 64)
        #expect(try file.int("llama.feed_forward_length") == 128)
        #expect(try file.int("llama.attention.head_count") == 4)
        #expect(try file.int("llama.attention.head_count_kv") == 2)
        #expect(try file.int("llama.rope.dimension_count") == 16)
        #expect(try file.int("general.file_type") == model.fileType)
        #expect(try file.float("llama.rope.freq_base") == 10000)
        #expect(try file.float("llama.attention.layer_norm_rms_epsilon") == 9.999999747378752e-06)
        #expect(try file.bool("tokenizer.ggml.add_bos_token") == false)
        #expect(file.metadata["llama.block_count"] == .uint32(2))
        let tokens = try file.stringArray("tokenizer.ggml.tokens")
        #expect(tokens.count == 256 && Array(tokens.prefix(3)) == ["Ā", "ā", "Ă"])
        #expect(try file.stringArray("tokenizer.ggml.merges") == ["þ ÿ"])
        let tokenTypes = try file.intArray("tokenizer.ggml.token_type")
        #expect(tokenTypes.count == 256 && tokenTypes.allSatisfy { $0 == 1 })
    }

    @Test(arguments: models) func tensorTable(model: Model) throws {
        let file = try GGUFFile(path: Fixtures.path(model.file))
        #expect(file.tensors.count == model.tensorCount)
        #expect(file.tensors.first?.name == "token_embd.weight")
        #expect((file.tensor(named: "output.weight") != nil) == model.hasOutput)
        let embedding = try #require(file.tensor(named: "token_embd.weight"))
        #expect(embedding.shape == [64, 256] && embedding.type == model.embeddingType)
        for layer in 0 ..< 2 {
            let q = try #require(file.tensor(named: "blk.\(layer).attn_q.weight"))
            let k = try #require(file.tensor(named: "blk.\(layer).attn_k.weight"))
            let down = try #require(file.tensor(named: "blk.\(layer).ffn_down.weight"))
            let norm = try #require(file.tensor(named: "blk.\(layer).attn_norm.weight"))
            #expect(q.shape == [64, 64] && k.shape == [64, 32] && down.shape == [128, 64] && norm.shape == [64])
            #expect(q.type == model.matrixType && down.type == model.matrixType && norm.type == .f32)
        }
        for (name, offset, bytes) in model.layout {
            let info = try #require(file.tensor(named: name))
            #expect(info.offset == offset && info.byteCount == bytes, "\(name)")
            #expect(info.fileOffset == model.dataOffset + offset)
            #expect(file.bytes(of: info).count == bytes)
        }
        #expect(file.tensor(named: "nope") == nil)
    }

    @Test(arguments: models) func matrixViewsAndDequantizedValues(model: Model) throws {
        let file = try GGUFFile(path: Fixtures.path(model.file))
        let q = try file.matrix(named: "blk.0.attn_q.weight")
        #expect(q.rows == 64 && q.columns == 64 && q.dtype == model.matrixType.dtype)
        let k = try file.matrix(named: "blk.0.attn_k.weight")
        #expect(k.rows == 32 && k.columns == 64)
        let info = try #require(file.tensor(named: "blk.0.attn_q.weight"))
        #expect(q.base == file.bytes(of: info).baseAddress, "the matrix must view the mapping, not a copy")
        let values = try file.floats(named: "blk.0.attn_q.weight")
        #expect(values.count == 64 * 64)
        #expect(Array(values.prefix(3)) == model.attnQRow0)
        #expect(values.last == model.attnQLast)
        let sum = values.reduce(0.0) { $0 + Double($1) }
        #expect(abs(sum - model.attnQSum) < 1e-5)
        let norm = try file.matrix(named: "blk.0.attn_norm.weight")
        #expect(norm.rows == 1 && norm.columns == 64 && norm.dtype == .f32)
        let normValues = try file.floats(named: "blk.0.attn_norm.weight")
        #expect(Array(normValues.prefix(3)) == [1.211777925491333, 0.9269683361053467, 1.0166759490966797])
        #expect(normValues.last == 0.9646516442298889)
    }

    @Test func embeddingRowsDequantizeLikeGGUFPy() throws {
        // token_embd.weight of the q4_1 model is Q8_0: row 0 and the last element.
        let file = try GGUFFile(path: Fixtures.path("tiny-llama-q4_1.gguf"))
        let values = try file.floats(named: "token_embd.weight")
        #expect(Array(values.prefix(3)) == [-0.40134429931640625, 0.017200469970703125, 0.1834716796875])
        #expect(values.last == -0.19886016845703125)
        #expect(abs(values.reduce(0.0) { $0 + Double($1) } - -35.7218609) < 1e-5)
    }

    @Test func matrixOutlivesFile() throws {
        var file: GGUFFile? = try GGUFFile(path: Fixtures.path("tiny-llama-f32.gguf"))
        let norm = try #require(try file?.matrix(named: "output_norm.weight"))
        let expected = try #require(try file?.floats(named: "output_norm.weight"))
        file = nil
        let first = norm.base.loadUnaligned(as: Float.self)
        #expect(first == expected[0], "the view's owner keeps the mapping alive")
    }

    @Test func typedLookupsNameTheKey() throws {
        let file = try GGUFFile(path: Fixtures.path("tiny-llama-f32.gguf"))
        let missing = #expect(throws: GGUFError.self) { try file.int("llama.nope") }
        guard case .missingKey("llama.nope") = missing else { Issue.record("got \(String(describing: missing))"); return }
        let wrong = #expect(throws: GGUFError.self) { try file.string("llama.block_count") }
        guard case .wrongType(let key, _, let found) = wrong else { Issue.record("got \(String(describing: wrong))"); return }
        #expect(key == "llama.block_count" && found == "UINT32")
        #expect(wrong?.description.contains("llama.block_count") == true)
        let notFound = #expect(throws: GGUFError.self) { try file.matrix(named: "blk.9.attn_q.weight") }
        guard case .tensorNotFound = notFound else { Issue.record("got \(String(describing: notFound))"); return }
    }
}
