/// Predicted speed of one configuration.
public struct CostEstimate: Sendable, Equatable, Codable {
    /// Headline throughput: inference, generated tokens per second over whole requests
    /// (prefill included); training, tokens trained per second.
    public var tokensPerSecond: Double
    /// Inference: prompt tokens per second during prefill. Training: 0.
    public var prefillTokensPerSecond: Double
    /// Inference: generated tokens per second in steady decoding. Training: 0.
    public var decodeTokensPerSecond: Double
    /// Inference: seconds for the whole batch (prefill and decode). Training: one step.
    public var seconds: Double
    /// Share of `seconds` the busiest device spends communicating (not overlapped).
    public var communicationShare: Double
    /// Share of `seconds` the busiest device idles in the pipeline bubble.
    public var bubbleShare: Double

    enum CodingKeys: String, CodingKey {
        case seconds
        case tokensPerSecond = "tokens_per_second"
        case prefillTokensPerSecond = "prefill_tokens_per_second"
        case decodeTokensPerSecond = "decode_tokens_per_second"
        case communicationShare = "communication_share"
        case bubbleShare = "bubble_share"
    }
}
