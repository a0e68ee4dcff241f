import Foundation
import Testing
import TridentCollectives
import TridentEngine
import TridentFormats
import TridentModel

/// Loads `path` on `size` tensor-parallel ranks (threads of this process, local backend, one
/// compute thread each) and runs `drive` with world rank 0's runner (see `withParallelRuntime`).
func withTensorParallel<R: Sendable>(_ path: String, size: Int, capacity: Int = 128,
                                     _ drive: @escaping @Sendable (DistributedRunner) throws -> R) throws -> R {
    try withParallelRuntime(path, layout: ParallelLayout(tensor: size), capacity: capacity, drive)
}

/// Greedy decoding: `steps` argmax tokens after `prompt` (slot 0, from position 0).
/// - Returns: the prompt's last-position logits and the generated ids.
func greedyDecode(_ runner: any ModelRunner, prompt: [Int32], steps: Int) throws -> (logits: [Float], ids: [Int32]) {
    let promptLogits = try runner.forward(tokens: prompt, slot: 0, start: 0, logits: .last)
    var logits = promptLogits
    var ids: [Int32] = []
    for position in prompt.count ..< prompt.count + steps {
        let next = Sampler.argmax(logits)
        ids.append(next)
        logits = try runner.forward(tokens: [next], slot: 0, start: position, logits: .last)
    }
    return (promptLogits, ids)
}

let smolLM2Available = FileManager.default.fileExists(atPath: OracleFixture.smolLM2)
let smolLM2Missing: Comment = "needs models/SmolLM2-135M-Instruct.Q4_1.gguf (run scripts/fetch-model.sh)"

@Suite("Tensor parallelism on tiny models equals one rank")
struct TinyTensorParallelTests {
    /// Every logits vector one run produces: prefill of every position of the "hello" prompt,
    /// then the "long" prompt prefilled but for 3 tokens which are decoded one at a time.
    static func run(_ variant: String, size: Int) throws -> [[Float]] {
        let hello = try OracleFixture.load("tiny-\(variant).hello").tokens
        let long = try OracleFixture.load("tiny-\(variant).long").tokens
        return try withTensorParallel(OracleFixture.model("tiny-llama-\(variant).gguf"), size: size) { runner in
            var out = [try runner.forward(tokens: hello, slot: 0, start: 0, logits: .all)]
            let split = long.count - 3
            _ = try runner.forward(tokens: Array(long[..<split]), slot: 0, start: 0, logits: .none)
            for position in split ..< long.count {
                out.append(try runner.forward(tokens: [long[position]], slot: 0, start: position, logits: .last))
            }
            return out
        }
    }

    @Test("prefill (all positions) and decode logits at TP 2, 3, 4 equal TP 1 within 1e-4 relative",
          arguments: ["f32", "q8_0", "q4_1"], [2, 3, 4])
    func matchesOneRank(variant: String, size: Int) throws {
        // Head dimension 16: at TP 3 and 4 a rank's slice of the row-parallel attn_output starts
        // mid-way through a 32-weight quantization block; the loader then keeps that slice as f32.
        try compare(variant: variant, size: size)
    }

    func compare(variant: String, size: Int) throws {
        let reference = try Self.run(variant, size: 1)
        let parallel = try Self.run(variant, size: size)
        let vocabulary = 256
        #expect(reference.count == 4 && reference[0].count == vocabulary * 22, "fixture shape changed")
        #expect(parallel.map(\.count) == reference.map(\.count))
        for (step, (got, want)) in zip(parallel, reference).enumerated() where got.count == want.count {
            #expect(maxRelativeDifference(got, want) < 1e-4, "step \(step) at TP=\(size) (\(variant))")
        }
        // The single-rank reference is itself right (guards against both being equally wrong).
        let oracle = try OracleFixture.load("tiny-\(variant).hello").allLogits()
        #expect(maxAbsDifference(reference[0], oracle) < 1e-3)
    }
}

@Suite("Tensor parallelism on SmolLM2 equals one rank", .serialized,
       .enabled(if: smolLM2Available, smolLM2Missing))
struct SmolLM2TensorParallelTests {
    static let prompts = ["capital", "fib", "robot"]
    static let steps = 16

    /// Last prompt logits and 16 greedy ids for each oracle prompt, at tensor-parallel `size`.
    static func run(size: Int) throws -> [(logits: [Float], ids: [Int32])] {
        let prompts = try Self.prompts.map { try OracleFixture.load("smollm2-q4_1.\($0)").tokens }
        let results = try withTensorParallel(OracleFixture.smolLM2, size: size, capacity: 64) { runner in
            try prompts.map { prompt -> [Float] in
                let (logits, ids) = try greedyDecode(runner, prompt: prompt, steps: steps)
                return logits + ids.map { Float($0) }   // ids are exact in Float (< 2^24)
            }
        }
        return results.map { (Array($0.dropLast(steps)), $0.suffix(steps).map { Int32($0) }) }
    }

    /// TP=1 results, computed once for all the parallel sizes.
    static let reference = Result { try run(size: 1) }

    @Test("last logits within 1e-4 relative and 16 greedy ids identical to TP 1", arguments: [2, 3, 4, 9])
    func matchesOneRank(size: Int) throws {
        let reference = try Self.reference.get()
        let parallel = try Self.run(size: size)
        for (index, name) in Self.prompts.enumerated() {
            #expect(maxRelativeDifference(parallel[index].logits, reference[index].logits) < 1e-4,
                    "\(name) at TP=\(size)")
            #expect(parallel[index].ids == reference[index].ids, "\(name) at TP=\(size)")
        }
    }

    @Test("TP 10 fails with tooManyRanks naming the 9-head limit")
    func tooManyRanks() throws {
        let error = #expect(throws: ShardingError.tooManyRanks(tensorParallelSize: 10, headCount: 9)) {
            try LocalCommunicator.run(size: 10) { communicator in
                _ = try RankRuntime.load(path: OracleFixture.smolLM2, world: communicator, threads: 1, capacity: 16)
                return 0
            }
        }
        #expect(error.map { "\($0)" }?.contains("9 query heads") == true)
    }

    @Test("the rank count is checked before any weight is read")
    func checkedBeforeWeights() throws {
        // SmolLM2's metadata without a single tensor: loading weights would fail, planning does not.
        let source = try GGUFFile(path: OracleFixture.smolLM2)
        var writer = GGUFWriter()
        for key in source.metadataKeys where key != "general.alignment" { writer.add(key, source.metadata[key]!) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("trident-tp-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("header-only.gguf").path
        try writer.write(to: path)
        let world = LocalCommunicator.makeGroup(size: 1)[0]
        let missing = #expect(throws: ModelLoadingError.self) {
            _ = try RankRuntime.load(path: path, world: world, threads: 1, capacity: 16)
        }
        if case .missingTensor? = missing {} else { Issue.record("expected a missing tensor, got \(String(describing: missing))") }
        #expect(throws: ShardingError.tooManyRanks(tensorParallelSize: 10, headCount: 9)) {
            try LocalCommunicator.run(size: 10) { communicator in
                _ = try RankRuntime.load(path: path, world: communicator, threads: 1, capacity: 16)
                return 0
            }
        }
    }
}

@Suite("Parallel pieces against their unsplit versions")
struct ShardingPieceTests {
    static let smol = ModelConfiguration(hiddenSize: 576, intermediateSize: 1536, layerCount: 30, headCount: 9,
                                         kvHeadCount: 3, vocabularySize: 49152)

    static func plans(_ c: ModelConfiguration, size: Int) throws -> [ShardingPlan] {
        try (0..<size).map { try ShardingPlan(configuration: c, tensorParallelSize: size, rank: $0) }
    }

    /// True when `ranges` are non-empty, in order, and tile `0 ..< count` exactly.
    static func tiles(_ ranges: [Range<Int>], _ count: Int) -> Bool {
        var next = 0
        for r in ranges {
            guard r.lowerBound == next, !r.isEmpty else { return false }
            next = r.upperBound
        }
        return next == count
    }

    @Test("9 query heads: 5 + 4 on 2 ranks, 3 + 2 + 2 + 2 on 4, one each on 9")
    func queryHeads() throws {
        #expect(try Self.plans(Self.smol, size: 2).map(\.queryHeads) == [0..<5, 5..<9])
        #expect(try Self.plans(Self.smol, size: 4).map(\.queryHeads) == [0..<3, 3..<5, 5..<7, 7..<9])
        #expect(try Self.plans(Self.smol, size: 9).map(\.queryHeads.count) == Array(repeating: 1, count: 9))
        #expect(ShardingPlan.unsharded(Self.smol).queryHeads == 0..<9)
    }

    @Test("each rank holds exactly the KV heads its query heads use", arguments: 1...9)
    func kvHeadsCover(size: Int) throws {
        let c = Self.smol
        for plan in try Self.plans(c, size: size) {
            let used = Set(plan.queryHeads.map { $0 / c.groupSize })
            #expect(Set(plan.kvHeads) == used, "rank \(plan.tensorParallelRank) of \(size)")
            let local = plan.localKVHeadForQueryHead(groupSize: c.groupSize)
            #expect(zip(plan.queryHeads, local).allSatisfy { $0 / c.groupSize == plan.kvHeads.lowerBound + $1 })
        }
        // The SmolLM2 worked example: KV head 1 is computed on both ranks at TP 2.
        #expect(try Self.plans(c, size: 2).map(\.kvHeads) == [0..<2, 1..<3])
    }

    @Test("MLP columns and vocabulary rows tile the whole; MLP cuts fall on 32-column blocks", arguments: 1...9)
    func mlpAndVocabulary(size: Int) throws {
        let plans = try Self.plans(Self.smol, size: size)
        #expect(Self.tiles(plans.map(\.mlpColumns), 1536))
        #expect(plans.allSatisfy { $0.mlpColumns.lowerBound % 32 == 0 && $0.mlpColumns.count % 32 == 0 })
        let blocks = plans.map { $0.mlpColumns.count / 32 }
        #expect(blocks.max()! - blocks.min()! <= 1, "blocks \(blocks) not balanced")
        #expect(Self.tiles(plans.map(\.vocabularyRows), 49152))
        let rows = plans.map(\.vocabularyRows.count)
        #expect(rows.max()! - rows.min()! <= 1)
    }

    @Test("an intermediate size that is not a whole number of blocks: the last rank takes the rest")
    func ragged() throws {
        let c = ModelConfiguration(hiddenSize: 64, intermediateSize: 100, layerCount: 1, headCount: 4,
                                   kvHeadCount: 2, vocabularySize: 10)
        let plans = try Self.plans(c, size: 3)
        #expect(plans.map(\.mlpColumns) == [0..<32, 32..<64, 64..<100])
        #expect(plans.map(\.vocabularyRows) == [0..<4, 4..<7, 7..<10])
    }

    @Test("more ranks than query heads is a typed error naming both numbers")
    func tooManyRanks() {
        #expect(throws: ShardingError.tooManyRanks(tensorParallelSize: 10, headCount: 9)) {
            _ = try ShardingPlan(configuration: Self.smol, tensorParallelSize: 10, rank: 0)
        }
        let text = "\(ShardingError.tooManyRanks(tensorParallelSize: 10, headCount: 9))"
        #expect(text.contains("10") && text.contains("9 query heads"))
    }

    @Test("gatherFromRegion with uneven widths rebuilds the unsplit matrix on every rank",
          arguments: [[3], [5, 4], [3, 2, 2, 2], [1, 0, 6]])
    func gatherUneven(widths: [Int]) throws {
        let rows = 3, total = widths.reduce(0, +)
        let full = (0 ..< rows * total).map { Float($0) * 0.5 - 7 }
        let starts = widths.indices.map { widths[..<$0].reduce(0, +) }
        let gathered = try LocalCommunicator.run(size: widths.count) { communicator -> [Float] in
            let rank = communicator.rank
            let local = full.withUnsafeBufferPointer {
                TensorParallelMappings.scatterToRegion($0, rows: rows, width: total,
                                                       columns: starts[rank] ..< starts[rank] + widths[rank])
            }
            return try local.withUnsafeBufferPointer {
                try TensorParallelMappings.gatherFromRegion($0, rows: rows, widths: widths, group: communicator)
            }
        }
        for (rank, result) in gathered.enumerated() { #expect(result == full, "rank \(rank)") }
    }

    @Test("reduceFromRegion sums the partial products of a row-split matrix-vector product")
    func reduceRowSplit() throws {
        // y = W x with W [2, 6] split by columns over 3 ranks: each rank's partial sums add up to y.
        let w: [Float] = [1, 2, 3, 4, 5, 6, -1, 0.5, 2, -3, 1, 4]
        let x: [Float] = [0.5, -1, 2, 1, -0.25, 3]
        let expected = (0..<2).map { r in (0..<6).reduce(Float(0)) { $0 + w[r * 6 + $1] * x[$1] } }
        let results = try LocalCommunicator.run(size: 3) { communicator -> [Float] in
            let columns = communicator.rank * 2 ..< communicator.rank * 2 + 2
            var partial = (0..<2).map { r in columns.reduce(Float(0)) { $0 + w[r * 6 + $1] * x[$1] } }
            try partial.withUnsafeMutableBufferPointer {
                try TensorParallelMappings.reduceFromRegion($0, group: communicator)
            }
            return partial
        }
        for result in results { #expect(zip(result, expected).allSatisfy { abs($0 - $1) < 1e-5 }) }
    }
}
