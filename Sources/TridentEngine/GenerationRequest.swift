/// What to generate for one prompt.
public struct GenerationRequest: Sendable {
    /// Prompt token ids (already templated and tokenized).
    public var promptTokens: [Int32]
    /// Most tokens to generate.
    public var maxTokens: Int
    public var sampling: SamplingParameters
    /// Generation stops when the text contains one of these; the text is cut before it.
    public var stopStrings: [String]
    /// Keep going past end-of-generation tokens (benchmarks).
    public var ignoreEndOfGeneration: Bool
    /// How many most-likely tokens (with log-probabilities) to report per generated token.
    public var topLogprobs: Int
    /// Report each generated token's own log-probability (OpenAI's `logprobs`).
    public var logprobs: Bool
    /// Also score the prompt: every prompt token after the first gets its log-probability (and
    /// `topLogprobs` alternatives) given the tokens before it, reported with the first output
    /// (OpenAI's `echo` with `logprobs`). Its prefill returns every position's logits.
    public var promptLogprobs = false

    public init(promptTokens: [Int32], maxTokens: Int, sampling: SamplingParameters = SamplingParameters(),
                stopStrings: [String] = [], ignoreEndOfGeneration: Bool = false, topLogprobs: Int = 0,
                logprobs: Bool = false) {
        self.promptTokens = promptTokens
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stopStrings = stopStrings
        self.ignoreEndOfGeneration = ignoreEndOfGeneration
        self.topLogprobs = topLogprobs
        self.logprobs = logprobs
    }
}

/// Why generation ended.
public enum StopReason: String, Sendable, Codable {
    /// An end-of-generation token was produced.
    case eos
    /// `maxTokens` were generated (or the context is full).
    case length
    /// A stop string appeared in the text.
    case stop
}

/// One token and its log-probability under the model's unmodified distribution.
public struct TokenLogprob: Sendable, Equatable {
    public var id: Int32
    public var logprob: Float
}

/// What came out of one generation.
public struct GenerationResult: Sendable {
    public var promptTokens: [Int32]
    /// Generated token ids (including a final end-of-generation token, if any).
    public var tokens: [Int32]
    /// Generated text (end-of-generation tokens and stop strings excluded).
    public var text: String
    public var stopReason: StopReason
    /// Per generated token, the `topLogprobs` most likely tokens.
    public var topLogprobs: [[TokenLogprob]]
    /// Leading prompt tokens found in the KV cache (left there by an earlier request in the
    /// same slot) and not run again.
    public var cachedPromptTokens = 0
    public var prefillSeconds: Double
    public var decodeSeconds: Double

    /// Prompt tokens per second of prefill.
    public var prefillTokensPerSecond: Double {
        prefillSeconds > 0 ? Double(promptTokens.count) / prefillSeconds : 0
    }
    /// Generated tokens per second, after the first (which comes from the prefill).
    public var decodeTokensPerSecond: Double {
        decodeSeconds > 0 && tokens.count > 1 ? Double(tokens.count - 1) / decodeSeconds : 0
    }
}

/// Why a generation request was refused.
public enum GenerationError: Error, CustomStringConvertible, Equatable {
    /// `index`: which request of a batch (nil for a single prompt).
    case emptyPrompt(index: Int?)
    case promptTooLong(index: Int?, tokens: Int, capacity: Int)

    public var description: String {
        switch self {
        case .emptyPrompt(let index):
            return "\(Self.which(index))is empty (no tokens)"
        case let .promptTooLong(index, tokens, capacity):
            return "\(Self.which(index))has \(tokens) tokens but the context holds \(capacity); shorten it or raise --context"
        }
    }

    private static func which(_ index: Int?) -> String {
        index.map { "prompt \($0 + 1) " } ?? "the prompt "
    }
}
