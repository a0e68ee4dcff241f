/// How the next token is chosen from the logits. Defaults give greedy decoding.
public struct SamplingParameters: Sendable, Equatable, Codable {
    /// 0 means greedy (argmax, ties to the lowest id).
    public var temperature: Float = 0
    /// Keep only the `topK` most likely tokens; 0 disables.
    public var topK: Int = 0
    /// Keep the smallest set of tokens whose probability mass reaches `topP`; 1 disables.
    public var topP: Float = 1
    /// Drop tokens whose probability is below `minP` times the most likely token's; 0 disables.
    public var minP: Float = 0
    /// Divide positive logits (multiply negative ones) of tokens seen in the context; 1 disables.
    public var repetitionPenalty: Float = 1
    /// How many of the most recent tokens the repetition penalty looks at.
    public var repetitionWindow: Int = 64
    /// Seed of the sampler's random number generator.
    public var seed: UInt64 = 0
    /// OpenAI's presence penalty: subtracted once from the logit of every token generated so far.
    public var presencePenalty: Float = 0
    /// OpenAI's frequency penalty: subtracted from a token's logit once per time it was generated.
    public var frequencyPenalty: Float = 0

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, minP: Float = 0,
                repetitionPenalty: Float = 1, repetitionWindow: Int = 64, seed: UInt64 = 0,
                presencePenalty: Float = 0, frequencyPenalty: Float = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.repetitionWindow = repetitionWindow
        self.seed = seed
        self.presencePenalty = presencePenalty
        self.frequencyPenalty = frequencyPenalty
    }

    /// Temperature 0 (or below, or NaN) is greedy. Any positive temperature samples; one so
    /// small that every logit gap underflows gives the greedy token too (see `Sampler`).
    public var isGreedy: Bool { !(temperature > 0) }
}
