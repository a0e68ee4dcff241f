import Foundation

/// A fixture made by the numpy oracle (`llama_ref.py`, float64 maths on dequantized weights):
/// prompt tokens, greedy continuation with the top-2 logit gap at each step, and logits.
struct OracleFixture: Decodable {
    let prompt: String
    let tokens: [Int32]
    let greedy: [Int32]
    let greedyText: String
    let greedyTop2Gap: [Double]
    let lastLogitsFile: String
    let allLogitsFile: String?

    enum CodingKeys: String, CodingKey {
        case prompt, tokens, greedy
        case greedyText = "greedy_text"
        case greedyTop2Gap = "greedy_top2_gap"
        case lastLogitsFile = "last_logits"
        case allLogitsFile = "all_logits"
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func load(_ name: String) throws -> OracleFixture {
        let data = try Data(contentsOf: directory.appendingPathComponent("oracle/\(name).json"))
        return try JSONDecoder().decode(OracleFixture.self, from: data)
    }

    /// Last-position logits, `[vocabulary]`.
    func lastLogits() throws -> [Float] { try OracleFixture.floats(lastLogitsFile) }
    /// Logits of every prompt position, `[tokens, vocabulary]`.
    func allLogits() throws -> [Float] { try OracleFixture.floats(allLogitsFile!) }

    /// Greedy tokens up to (not including) the first step whose top-2 gap in the oracle is
    /// below `gap`: past a near-tie, float32 and float64 may legitimately choose differently.
    func greedyBeforeNearTie(gap: Double) -> ArraySlice<Int32> {
        let cut = greedyTop2Gap.firstIndex(where: { $0 < gap }) ?? greedy.count
        return greedy.prefix(cut)
    }

    static func floats(_ file: String) throws -> [Float] {
        let data = try Data(contentsOf: directory.appendingPathComponent("oracle/\(file)"))
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    static func model(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// The real default model, fetched by `scripts/fetch-model.sh`.
    static let smolLM2 = directory.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "\(a.count) vs \(b.count) values")
    var m: Float = 0
    for i in a.indices { m = max(m, abs(a[i] - b[i])) }
    return m
}

/// max |a - b| / max(max |b|, 1): the relative error of a whole logits vector.
func maxRelativeDifference(_ a: [Float], _ b: [Float]) -> Float {
    let scale = max(b.map { abs($0) }.max() ?? 0, 1)
    return maxAbsDifference(a, b) / scale
}
