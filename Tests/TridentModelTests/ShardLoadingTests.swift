import Foundation
import Testing
import TridentCollectives
import TridentFormats
import TridentKernels
import TridentModel

/// Loading a rank's shard by `pread` (no mapping) must give exactly the bytes of the
/// corresponding views into the mapped file, and the `.firstRank` logits gather must give
/// rank 0 exactly what the all-gather gives every rank.
@Suite("Shard loading and logits gathering")
struct ShardLoadingTests {
    /// At TP 3 and 4 the tiny models' attn_output (head dim 16) is cut inside 32-column blocks:
    /// those slices are kept as f32, and must still agree between the loading paths.
    static let cases: [(String, Int)] = [("f32", 2), ("q8_0", 2), ("q4_1", 2), ("f32", 3), ("q8_0", 3),
                                         ("q4_1", 3), ("q4_1", 4)]

    /// Same shape, type and layout, and every row's GGUF bytes equal (row-group matrices,
    /// repacked at load on AVX-512 CPUs, are read back in row order).
    static func rowsEqual(_ a: WeightMatrix, _ b: WeightMatrix) -> Bool {
        guard a.rows == b.rows, a.columns == b.columns, a.dtype == b.dtype, a.layout == b.layout else { return false }
        return (0..<a.rows).allSatisfy { storedRow(a, $0) == storedRow(b, $0) }
    }

    static func storedRow(_ m: WeightMatrix, _ r: Int) -> [UInt8] {
        let count = m.dtype.rowBytes(m.columns)
        if m.layout == .rows { return Array(UnsafeRawBufferPointer(start: m.rowPointer(r), count: count)) }
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { m.copyRowFromGroups(r, into: $0.baseAddress!) }
        return bytes
    }

    static func matrices(_ w: LlamaWeights) -> [WeightMatrix] {
        var all = w.layers.flatMap { [$0.query, $0.key, $0.value, $0.attentionOutput, $0.up, $0.down] + [$0.gate].compactMap { $0 } }
        all += [w.embedding, w.output].compactMap { $0 }
        return all
    }

    @Test("pread slices equal the mapped views byte for byte", arguments: cases)
    func slicesEqualViews(variant: String, size: Int) throws {
        let file = try GGUFFile(path: OracleFixture.model("tiny-llama-\(variant).gguf"))
        let c = try ModelConfiguration(gguf: file)
        let reader = GGUFTensorReader(file)
        for rank in 0..<size {
            let plan = try ShardingPlan(configuration: c, tensorParallelSize: size, rank: rank)
            func load(_ copy: Bool?) throws -> LlamaWeights {
                guard let copy else {
                    return try LlamaWeights.load(from: reader, configuration: c, plan: plan, layers: 0..<c.layerCount,
                                                 includeEmbedding: true, includeHead: true)
                }
                return try LlamaWeights.load(from: file, configuration: c, plan: plan, layers: 0..<c.layerCount,
                                             includeEmbedding: true, includeHead: true, copySlices: copy)
            }
            let views = try load(false), copies = try load(true), preads = try load(nil)
            let expected = Self.matrices(views)
            #expect(expected.count == 7 * c.layerCount + 2)
            for other in [copies, preads] {
                let found = Self.matrices(other)
                #expect(found.count == expected.count)
                #expect(zip(expected, found).allSatisfy { Self.rowsEqual($0, $1) }, "rank \(rank) of \(size)")
                #expect(other.layers.map(\.attentionNorm) == views.layers.map(\.attentionNorm))
                #expect(other.layers.map(\.mlpNorm) == views.layers.map(\.mlpNorm))
                #expect(other.outputNorm == views.outputNorm)
                #expect(other.byteCount == views.byteCount)
            }
            // Owned copies do not keep the mapping alive.
            #expect(preads.layers[0].query.base != views.layers[0].query.base)
        }
    }

    @Test("a column slice reads the right blocks of every row")
    func columnSlice() throws {
        let file = try GGUFFile(path: OracleFixture.model("tiny-llama-q4_1.gguf"))
        let info = try #require(file.tensors.first { $0.name.hasSuffix("ffn_down.weight") })
        let view = try file.matrix(named: info.name)
        let columns = 32 ..< min(view.columns, 96)
        let slice = view.columns(columns)
        let rowBytes = view.dtype.rowBytes(columns.count)
        var bytes = [UInt8](repeating: 0xAA, count: (view.rows - 1) * rowBytes)
        try bytes.withUnsafeMutableBytes {
            try GGUFTensorReader(file).readSlice(of: info, rows: 1 ..< view.rows, columns: columns, into: $0)
        }
        for r in 1 ..< view.rows {
            let expected = Array(UnsafeRawBufferPointer(start: slice.rowPointer(r), count: rowBytes))
            #expect(Array(bytes[(r - 1) * rowBytes ..< r * rowBytes]) == expected, "row \(r)")
        }
    }

    @Test("a file cut short after parsing throws truncated, naming the tensor")
    func truncatedFile() throws {
        let source = OracleFixture.model("tiny-llama-q8_0.gguf")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("trident-shard-\(UUID().uuidString).gguf").path
        try FileManager.default.copyItem(atPath: source, toPath: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reader = GGUFTensorReader(try GGUFFile(path: path))
        let last = try #require(try GGUFFile(path: path).tensors.max { $0.fileOffset < $1.fileOffset })
        #expect(truncate(path, off_t(last.fileOffset + last.byteCount / 2)) == 0)
        let dtype = try #require(last.type.dtype)
        let rows = last.elementCount / last.shape[0]
        var bytes = [UInt8](repeating: 0, count: rows * dtype.rowBytes(last.shape[0]))
        let error = #expect(throws: GGUFError.self) {
            try bytes.withUnsafeMutableBytes {
                try reader.readSlice(of: last, rows: 0 ..< rows, columns: 0 ..< last.shape[0], into: $0)
            }
        }
        guard case .truncated(let field, _, _, _) = error else {
            Issue.record("expected GGUFError.truncated, got \(String(describing: error))")
            return
        }
        #expect(field.contains(last.name))
    }

    /// Last-position and all-position logits of a fixed prompt on `size` ranks, one array per rank.
    static func logits(size: Int, receivers: LogitsReceivers) throws -> [[[Float]]] {
        let path = OracleFixture.model("tiny-llama-f32.gguf")
        return try LocalCommunicator.run(size: size) { group -> [[Float]] in
            let file = try GGUFFile(path: path)
            let c = try ModelConfiguration(gguf: file)
            let plan = try ShardingPlan(configuration: c, tensorParallelSize: size, rank: group.rank)
            let weights = try LlamaWeights.load(from: GGUFTensorReader(file), configuration: c, plan: plan,
                                                layers: 0..<c.layerCount, includeEmbedding: true, includeHead: true)
            let cache = KVCache(layerCount: c.layerCount, capacity: 16, kvHeads: plan.kvHeads.count,
                                headDimension: c.headDimension)
            let stage = LlamaStage(configuration: c, plan: plan, layers: 0..<c.layerCount, weights: weights,
                                   cache: cache, tensorGroup: group, pool: ThreadPool(threadCount: 1),
                                   logitsReceivers: receivers)
            let all = try stage.forward(tokens: [1, 5, 9, 3], slot: 0, start: 0, logits: .all)
            let last = try stage.forward(tokens: [7], slot: 0, start: 4, logits: .last)
            return [all, last]
        }
    }

    @Test("first-rank gathering gives rank 0 the all-gather's logits bit for bit, others nothing", arguments: [2, 3, 4])
    func firstRankGather(size: Int) throws {
        let everyRank = try Self.logits(size: size, receivers: .everyRank)
        let firstRank = try Self.logits(size: size, receivers: .firstRank)
        let vocabulary = try ModelConfiguration(gguf: GGUFFile(path: OracleFixture.model("tiny-llama-f32.gguf")))
            .vocabularySize
        #expect(everyRank[0][0].count == 4 * vocabulary && everyRank[0][1].count == vocabulary)
        #expect(firstRank[0] == everyRank[0])
        for rank in 1..<size {
            #expect(everyRank[rank] == everyRank[0])
            #expect(firstRank[rank] == [[], []])
        }
    }
}
