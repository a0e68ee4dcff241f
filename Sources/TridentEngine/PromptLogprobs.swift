/// The log-probability the model gave one prompt token, given the tokens before it (OpenAI's
/// `echo` with `logprobs`; the first prompt token has none).
public struct PromptTokenLogprob: Sendable, Equatable {
    /// The prompt token and its log-probability.
    public var token: TokenLogprob
    /// The most likely tokens at its position (`topLogprobs` of the request), most likely first.
    public var top: [TokenLogprob]
}

extension GenerationSequence {
    /// Scores the prompt tokens that `rows` predict: row `i` holds the logits after position
    /// `start + i`, so it scores prompt token `start + i + 1` (when that is still in the
    /// prompt; the last row of the prompt predicts the first generated token instead).
    /// - Parameters:
    ///   - rows: `[count, vocabulary]` logits, as a chunk with `.all` returns them.
    ///   - start: the position of the chunk's first token.
    mutating func scorePrompt(_ rows: [Float], start: Int, count: Int) {
        guard count > 0, !rows.isEmpty else { return }
        let vocabulary = rows.count / count
        let prompt = request.promptTokens
        for i in 0..<count where start + i + 1 < prompt.count {
            let row = Array(rows[(i * vocabulary)..<((i + 1) * vocabulary)])
            let id = prompt[start + i + 1]
            let top = Sampler.topLogProbabilities(row, k: request.topLogprobs)
                .map { TokenLogprob(id: $0.id, logprob: $0.logProbability) }
            recordPromptScore(PromptTokenLogprob(token: TokenLogprob(id: id, logprob: Sampler.logProbability(of: id, in: row)),
                                                 top: top))
        }
    }
}
