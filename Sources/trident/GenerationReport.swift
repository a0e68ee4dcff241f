import Foundation
import TridentEngine

/// The `--json` line of `trident generate` (field names are a contract).
struct GenerationReport: Encodable {
    struct Stats: Encodable {
        var loadSeconds: Double
        var prefillTokensPerSecond: Double
        var decodeTokensPerSecond: Double
        var peakRSSBytes: Int
        enum CodingKeys: String, CodingKey {
            case loadSeconds = "load_seconds"
            case prefillTokensPerSecond = "prefill_tokens_per_second"
            case decodeTokensPerSecond = "decode_tokens_per_second"
            case peakRSSBytes = "peak_rss_bytes"
        }

        /// Rates are `null` when not finite (no decode step, a zero-length interval).
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(JSONLine.finite(loadSeconds), forKey: .loadSeconds)
            try container.encode(JSONLine.finite(prefillTokensPerSecond), forKey: .prefillTokensPerSecond)
            try container.encode(JSONLine.finite(decodeTokensPerSecond), forKey: .decodeTokensPerSecond)
            try container.encode(peakRSSBytes, forKey: .peakRSSBytes)
        }
    }

    /// With --prompts-file: the prompt's line among the file's prompts (0-based).
    var index: Int?
    var promptTokens: [Int32]
    var tokens: [Int32]
    var text: String
    var stopReason: String
    /// Per generated token, `[id, logprob]` pairs (a logprob of -infinity is `null`).
    var topLogprobs: [[[Double?]]]?
    var stats: Stats
    /// Per-rank statistics (single prompt only).
    var ranks: [RankStatistics]?

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case index
        case tokens, text
        case stopReason = "stop_reason"
        case topLogprobs = "top_logprobs"
        case stats, ranks
    }

    init(result: GenerationResult, loadSeconds: Double, ranks: [RankStatistics]?) {
        promptTokens = result.promptTokens
        tokens = result.tokens
        text = result.text
        stopReason = result.stopReason.rawValue
        topLogprobs = result.topLogprobs.isEmpty ? nil
            : result.topLogprobs.map { $0.map { [Double($0.id), JSONLine.finite($0.logprob)] } }
        stats = Stats(loadSeconds: loadSeconds, prefillTokensPerSecond: result.prefillTokensPerSecond,
                      decodeTokensPerSecond: result.decodeTokensPerSecond,
                      peakRSSBytes: ranks?.first?.peakRSSBytes ?? ProcessMemory.peakResidentBytes())
        self.ranks = ranks
    }

    func jsonLine() throws -> String { try JSONLine.encode(self) }
}
