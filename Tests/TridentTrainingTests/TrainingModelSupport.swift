import Foundation
import TridentCollectives
import TridentFormats
import TridentKernels
import TridentModel
import TridentTokenizer
@testable import TridentTraining

/// The training reference fixtures of `Tests/Fixtures/training` (see its README).
enum TrainingFixtures {
    /// The repository root (this file is `Tests/TridentTrainingTests/…`).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    struct Parameter: Decodable { let name: String; let shape: [Int] }
    struct Step: Decodable { let step: Int; let sequences: [Int]; let loss: Double; let grad_norm: Double }
    struct Reference: Decodable {
        let data_tokens: Int
        let first_tokens: [Int]
        let seq_len: Int
        let parameters: [Parameter]
        let steps: [Step]
    }

    static func reference(_ name: String) throws -> Reference {
        let data = try Data(contentsOf: URL(fileURLWithPath: path("Tests/Fixtures/training/\(name).license.json")))
        return try JSONDecoder().decode(Reference.self, from: data)
    }

    /// Sequences `indices` (each `L + 1` tokens) of `models/LICENSE.txt` tokenized without BOS
    /// by the model's own tokenizer, after checking the token count and first tokens against the fixture.
    static func sequences(model: String, reference: Reference, indices: [Int]) throws -> [[Int32]] {
        let text = try String(contentsOfFile: path("models/LICENSE.txt"), encoding: .utf8)
        let tokenizer = try Tokenizer(gguf: try GGUFFile(path: model))
        let tokens = tokenizer.encode(text, addSpecial: false)
        guard tokens.count == reference.data_tokens, Array(tokens.prefix(reference.first_tokens.count)) == reference.first_tokens
        else { throw TrainingError.invalidValue(name: "fixture tokens", expected: "\(reference.data_tokens)", found: "\(tokens.count)") }
        let length = reference.seq_len
        return indices.map { k in tokens[k * length ... k * length + length].map { Int32($0) } }
    }

    /// Every parameter's step-1 gradient from `X.license.step1-grads.f32`, by name.
    static func gradients(_ name: String, reference: Reference) throws -> [String: [Float]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path("Tests/Fixtures/training/\(name).license.step1-grads.f32")))
        let floats = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        var out: [String: [Float]] = [:], offset = 0
        for p in reference.parameters {
            let count = p.shape.reduce(1, *)
            out[p.name] = Array(floats[offset ..< offset + count])
            offset += count
        }
        precondition(offset == floats.count, "gradient file holds \(floats.count) floats, parameters \(offset)")
        return out
    }
}

/// One rank's gradients, to be assembled into full tensors.
struct RankGradients: Sendable {
    struct Piece: Sendable { let name: String; let globalShape: [Int]; let rows: Range<Int>?; let columns: Range<Int>?; let values: [Float] }
    let lossSum: Double
    let targets: Int
    let pieces: [Piece]
    let order: [String]
}

/// One micro-batch's forward and backward on a `tp`-rank group (threads, local backend);
/// returns rank 0's loss (every rank's must agree) and the full gradients, gathered.
func gatheredGradients(tp: Int, sequences: [[Int32]], threads: Int = 1,
                       build: @escaping @Sendable (any Communicator, ThreadPool) throws -> LlamaTrainingModel)
    throws -> (loss: Double, lossSums: [Double], order: [String], gradients: [String: [Float]]) {
    let denominator = sequences.count * (sequences[0].count - 1)
    let ranks = try LocalCommunicator.run(size: tp) { comm in
        try Result { () throws -> RankGradients in
            let model = try build(comm, ThreadPool(threadCount: threads))
            let (lossSum, targets) = try model.accumulateGradients(sequences: sequences, denominator: denominator)
            return RankGradients(lossSum: lossSum, targets: targets, pieces: model.parameters.map {
                .init(name: $0.name, globalShape: $0.globalShape, rows: $0.shardRows, columns: $0.shardColumns,
                      values: Array($0.gradient))
            }, order: model.parameters.map(\.name))
        }
    }.map { try $0.get() }
    let (order, full) = assemble(ranks)
    return (ranks[0].lossSum / Double(denominator), ranks.map(\.lossSum), order, full)
}

/// Every rank's gradient pieces placed into full tensors (duplicated pieces agree), and the
/// parameter names in rank 0's order.
func assemble(_ ranks: [RankGradients]) -> (order: [String], gradients: [String: [Float]]) {
    var full: [String: [Float]] = [:]
    for rank in ranks {
        for piece in rank.pieces {
            let rows = piece.globalShape[0], columns = piece.globalShape.count == 1 ? 1 : piece.globalShape[1]
            var tensor = full[piece.name] ?? [Float](repeating: .nan, count: rows * columns)
            let r = piece.rows ?? 0 ..< rows
            let c = piece.globalShape.count == 1 ? 0 ..< 1 : piece.columns ?? 0 ..< columns
            for (i, row) in r.enumerated() {
                for (j, column) in c.enumerated() { tensor[row * columns + column] = piece.values[i * c.count + j] }
            }
            full[piece.name] = tensor
        }
    }
    var order: [String] = []
    for name in ranks[0].order where !order.contains(name) { order.append(name) }
    return (order, full)
}

/// `max |a − b|` over `max(max |b|, floor)` (the error relative to the tensor's largest
/// gradient; `floor` keeps gradients that are zero in exact arithmetic, such as a key bias
/// without RoPE, from comparing round-off with round-off).
func errorRelativeToMax(_ a: [Float], _ b: [Float], floor: Double = 0) -> Double {
    precondition(a.count == b.count)
    var worst = 0.0, scale = 0.0
    for i in a.indices {
        worst = max(worst, abs(Double(a[i]) - Double(b[i])))
        scale = max(scale, abs(Double(b[i])))
    }
    scale = max(scale, floor)
    return scale > 0 ? worst / scale : worst
}
