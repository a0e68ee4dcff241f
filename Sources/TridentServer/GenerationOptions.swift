import TridentEngine

/// The sampling and output fields shared by `/v1/completions` and `/v1/chat/completions`,
/// validated (ranges as OpenAI documents them).
struct GenerationOptions: Sendable {
    /// `max_tokens` / `max_completion_tokens` when given (at least 1).
    var maxTokens: Int?
    var sampling = SamplingParameters()
    /// Whether `seed` was given (otherwise sampled choices get a random one).
    var seeded = false
    var stop: [String] = []
    var n = 1
    var stream = false
    var includeUsage = false
    var logprobs = false
    var topLogprobs = 0
    /// vLLM's and llama.cpp's `ignore_eos`: generate past end-of-generation tokens (benchmarks).
    var ignoreEOS = false

    /// Most tokens any request may ask for.
    static let maxTokensLimit: Int64 = 1 << 24
    static let maxChoices: Int64 = 16
    static let maxTopLogprobs: Int64 = 20

    /// Reads the shared fields. `chat`: logprobs is a boolean with `top_logprobs` beside it,
    /// and `max_completion_tokens` may replace `max_tokens`.
    init(_ f: RequestFields, chat: Bool) throws(APIError) {
        let limit = Self.maxTokensLimit
        maxTokens = try f.integer("max_tokens", in: 1...limit)
        if chat, let m = try f.integer("max_completion_tokens", in: 1...limit) { maxTokens = m }
        let temperature = try f.number("temperature", "in [0, 2]") { $0 >= 0 && $0 <= 2 } ?? 1
        let topP = try f.number("top_p", "in (0, 1]") { $0 > 0 && $0 <= 1 } ?? 1
        let topK = try f.integer("top_k", in: -1...(1 << 24)) ?? 0
        let minP = try f.number("min_p", "in [0, 1]") { $0 >= 0 && $0 <= 1 } ?? 0
        let presence = try f.number("presence_penalty", "in [-2, 2]") { $0 >= -2 && $0 <= 2 } ?? 0
        let frequency = try f.number("frequency_penalty", "in [-2, 2]") { $0 >= -2 && $0 <= 2 } ?? 0
        let repetition = try f.number("repetition_penalty", "in (0, 10]") { $0 > 0 && $0 <= 10 } ?? 1
        let seed = try f.integer("seed", in: Int64.min...Int64.max)
        seeded = seed != nil
        sampling = SamplingParameters(temperature: Float(temperature), topK: max(0, topK), topP: Float(topP),
                                      minP: Float(minP), repetitionPenalty: Float(repetition),
                                      seed: UInt64(bitPattern: Int64(seed ?? 0)),
                                      presencePenalty: Float(presence), frequencyPenalty: Float(frequency))
        stop = try f.stopStrings()
        n = try f.integer("n", in: 1...Self.maxChoices) ?? 1
        stream = try f.bool("stream") ?? false
        ignoreEOS = try f.bool("ignore_eos") ?? false
        if let options = f["stream_options"] {
            guard case .object(let o) = options else {
                throw .wrongType("stream_options", expected: "an object", found: options)
            }
            includeUsage = try RequestFields(object: o).bool("include_usage") ?? false
        }
        if chat {
            logprobs = try f.bool("logprobs") ?? false
            topLogprobs = try f.integer("top_logprobs", in: 0...Self.maxTopLogprobs) ?? 0
            if topLogprobs > 0 && !logprobs {
                throw .invalid("'top_logprobs' needs 'logprobs': true", param: "top_logprobs")
            }
        } else if let k = try f.integer("logprobs", in: 0...Self.maxTopLogprobs) {
            logprobs = true
            topLogprobs = k
        }
    }

    /// The engine requests for `prompt`: `n` choices; a sampled choice `i` gets `seed + i`
    /// (or a random seed). The token limit defaults to `defaultMaxTokens` and must fit the
    /// context left after the prompt.
    /// - Throws: `APIError` (400) for a prompt that fills the context or a limit beyond it.
    func requests(prompt: [Int32], capacity: Int, defaultMaxTokens: Int?) throws(APIError) -> [GenerationRequest] {
        guard !prompt.isEmpty else { throw .invalid("the prompt is empty", param: "prompt") }
        let left = capacity - prompt.count
        guard left >= 1 else {
            throw .invalid("this model's context holds \(capacity) tokens but the prompt has \(prompt.count)",
                           param: "prompt", code: "context_length_exceeded")
        }
        if let maxTokens, maxTokens > left {
            throw .invalid("this model's context holds \(capacity) tokens; the prompt has \(prompt.count), leaving "
                           + "\(left) for the completion, but \(maxTokens) were requested",
                           param: "max_tokens", code: "context_length_exceeded")
        }
        let limit = maxTokens ?? min(left, defaultMaxTokens ?? left)
        return (0..<n).map { i in
            var sampling = self.sampling
            if !sampling.isGreedy {
                sampling.seed = seeded ? sampling.seed &+ UInt64(i) : UInt64.random(in: 0...UInt64.max)
            }
            return GenerationRequest(promptTokens: prompt, maxTokens: limit, sampling: sampling, stopStrings: stop,
                                     ignoreEndOfGeneration: ignoreEOS, topLogprobs: topLogprobs, logprobs: logprobs)
        }
    }
}

extension RequestFields {
    init(object: [String: JSONValue]) { self.object = object }
}
