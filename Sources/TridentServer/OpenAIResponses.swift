import TridentEngine

/// OpenAI's response objects (only the fields this server fills; nil fields are left out).
struct Usage: Encodable, Sendable {
    var promptTokens: Int
    var completionTokens: Int
    /// Prompt tokens found in the KV cache and not run again (`prompt_tokens_details.cached_tokens`).
    var cachedTokens = 0
    var totalTokens: Int { promptTokens + completionTokens }

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", totalTokens = "total_tokens"
        case promptTokensDetails = "prompt_tokens_details"
    }

    struct PromptTokensDetails: Encodable {
        var cachedTokens: Int
        enum CodingKeys: String, CodingKey { case cachedTokens = "cached_tokens" }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(promptTokens, forKey: .promptTokens)
        try c.encode(completionTokens, forKey: .completionTokens)
        try c.encode(totalTokens, forKey: .totalTokens)
        try c.encode(PromptTokensDetails(cachedTokens: cachedTokens), forKey: .promptTokensDetails)
    }
}

/// `/v1/completions` (also each streamed chunk, with `object` "text_completion").
struct CompletionResponse: Encodable, Sendable {
    var id: String
    var object = "text_completion"
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: Usage?

    struct Choice: Encodable, Sendable {
        var index: Int
        var text: String
        var logprobs: CompletionLogprobs?
        var finishReason: String?
        enum CodingKeys: String, CodingKey { case index, text, logprobs, finishReason = "finish_reason" }
    }
}

/// The completions API's log-probabilities: parallel lists per token.
/// With `echo`, the prompt's tokens come first, the first of them with null log-probabilities.
struct CompletionLogprobs: Encodable, Sendable {
    var tokens: [String] = []
    var tokenLogprobs: [Float?] = []
    var topLogprobs: [[String: Float]?] = []
    var textOffset: [Int] = []

    mutating func append(_ other: CompletionLogprobs) {
        tokens += other.tokens
        tokenLogprobs += other.tokenLogprobs
        topLogprobs += other.topLogprobs
        textOffset += other.textOffset
    }
    enum CodingKeys: String, CodingKey {
        case tokens, tokenLogprobs = "token_logprobs", topLogprobs = "top_logprobs", textOffset = "text_offset"
    }
}

/// `/v1/chat/completions`, and its streamed chunks (`object` "chat.completion.chunk", `delta`
/// instead of `message`).
struct ChatResponse: Encodable, Sendable {
    var id: String
    var object: String
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: Usage?

    struct Choice: Encodable, Sendable {
        var index: Int
        var message: Message?
        var delta: Message?
        var logprobs: ChatLogprobs?
        var finishReason: String?
        enum CodingKeys: String, CodingKey { case index, message, delta, logprobs, finishReason = "finish_reason" }
    }

    struct Message: Encodable, Sendable {
        var role: String?
        var content: String?
    }
}

/// The chat API's log-probabilities: one entry per token.
struct ChatLogprobs: Encodable, Sendable {
    var content: [Entry] = []

    struct Entry: Encodable, Sendable {
        var token: String
        var logprob: Float
        var bytes: [UInt8]
        var topLogprobs: [Top]?
        enum CodingKeys: String, CodingKey { case token, logprob, bytes, topLogprobs = "top_logprobs" }
    }

    struct Top: Encodable, Sendable {
        var token: String
        var logprob: Float
        var bytes: [UInt8]
    }
}

/// `GET /v1/models`.
struct ModelList: Encodable, Sendable {
    var object = "list"
    var data: [Model]

    struct Model: Encodable, Sendable {
        var id: String
        var object = "model"
        var created: Int
        var ownedBy = "trident"
        var maxModelLen: Int?
        enum CodingKeys: String, CodingKey { case id, object, created, ownedBy = "owned_by", maxModelLen = "max_model_len" }
    }
}

extension StopReason {
    /// OpenAI's `finish_reason`.
    var finishReason: String { self == .length ? "length" : "stop" }
}
