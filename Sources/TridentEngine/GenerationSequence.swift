import Foundation
import TridentTokenizer

/// One sequence being generated: its sampler, streaming detokenizer, stop conditions and
/// position. The scheduler runs its prompt (in one or more chunks), then feeds it the logits of
/// its last position; it says which token to run next, or that it is finished.
struct GenerationSequence {
    let request: GenerationRequest
    private var sampler: Sampler
    private var detokenizer: StreamingDetokenizer
    private var matcher: StopStringMatcher
    private let isEndOfGeneration: (Int) -> Bool
    private var history: [Int32]
    /// How often each generated token occurred (presence and frequency penalties).
    private var counts: [Int32: Int] = [:]
    private(set) var generated: [Int32] = []
    private var logprobs: [[TokenLogprob]] = []
    /// Scores of prompt tokens 1..., while the prompt runs (`request.promptLogprobs`).
    private var promptScores: [PromptTokenLogprob] = []
    private(set) var reason = StopReason.length
    /// Positions of the sequence already in the KV cache.
    private(set) var position = 0
    /// The token to run next (after the prefill).
    private(set) var nextToken: Int32?
    private(set) var isFinished = false
    private let admitted = DispatchTime.now().uptimeNanoseconds
    private var prefilled: UInt64 = 0
    /// Prompt tokens whose keys and values were already in the slot's KV cache when the
    /// sequence was admitted (a previous sequence of the slot ran the same prefix).
    let cachedPromptTokens: Int

    /// - Parameter cachedPrefix: leading prompt tokens already in the slot's KV cache at
    ///   positions `0..<cachedPrefix` (less than the prompt's length: the last prompt token
    ///   always runs, its logits give the first token); they are not run again.
    init(_ request: GenerationRequest, tokenizer: Tokenizer, cachedPrefix: Int = 0) {
        precondition(cachedPrefix >= 0 && cachedPrefix < request.promptTokens.count, "a cached prefix leaves a prompt token to run")
        self.request = request
        cachedPromptTokens = cachedPrefix
        position = cachedPrefix
        sampler = Sampler(request.sampling)
        detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
        matcher = StopStringMatcher(request.stopStrings)
        isEndOfGeneration = { tokenizer.isEndOfGeneration($0) }
        history = request.promptTokens
    }

    /// Whether part of the prompt still has to be run.
    var needsPrefill: Bool { position < request.promptTokens.count }

    /// The tokens whose keys and values this sequence has put in its slot, positions
    /// `0..<position` (its prompt, then the generated tokens that were run).
    var tokensInCache: ArraySlice<Int32> { history.prefix(position) }

    /// Prompt tokens not yet in the KV cache.
    var remainingPrompt: ArraySlice<Int32> { request.promptTokens[position...] }

    /// Records that `ran` more prompt tokens were run without asking for logits (a prompt
    /// chunk that is not the last).
    mutating func advance(ran: Int) {
        precondition(position + ran < request.promptTokens.count, "the last prompt chunk must be accepted")
        position += ran
    }

    /// Takes the last-position logits of the tokens just run (`ran` of them: the rest of the
    /// prompt, or the one `nextToken`) and samples.
    /// Afterwards either `nextToken` is set or `isFinished` is true.
    /// - Parameter capacity: positions the sequence's KV-cache slot holds.
    /// - Returns: the sampled token (nil when the token limit was already reached), its
    ///   log-probabilities when requested, and text that became visible.
    mutating func accept(logits: [Float], ran: Int, capacity: Int) -> SequenceOutput {
        precondition(!isFinished, "the sequence is finished")
        position += ran
        var output = SequenceOutput()
        if prefilled == 0 {
            prefilled = DispatchTime.now().uptimeNanoseconds
            if request.promptLogprobs { output.promptLogprobs = promptScores }
        }
        nextToken = nil
        guard generated.count < request.maxTokens else { finish(&output); return output }
        let penalized = applyPenalties(logits)
        let next = sampler.sample(logits: penalized, history: history)
        if request.topLogprobs > 0 || request.logprobs {
            let top = Sampler.topLogProbabilities(logits, k: request.topLogprobs)
                .map { TokenLogprob(id: $0.id, logprob: $0.logProbability) }
            logprobs.append(top)
            output.topLogprobs = top
            output.logprob = TokenLogprob(id: next, logprob: Sampler.logProbability(of: next, in: logits))
        }
        output.token = next
        generated.append(next)
        history.append(next)
        counts[next, default: 0] += 1
        if !request.ignoreEndOfGeneration && isEndOfGeneration(Int(next)) {
            reason = .eos
            finish(&output)
            return output
        }
        let (visible, stopped) = matcher.append(detokenizer.append(Int(next)))
        output.text = visible
        if stopped {
            reason = .stop
            finish(&output)
            return output
        }
        // Out of tokens, or no room to run `next` (the context is full): stop with `.length`.
        guard generated.count < request.maxTokens, position + 1 <= capacity - 1 else {
            finish(&output)
            return output
        }
        nextToken = next
        return output
    }

    mutating func recordPromptScore(_ score: PromptTokenLogprob) { promptScores.append(score) }

    /// OpenAI's presence and frequency penalties over the generated tokens (the raw logits
    /// when both are 0).
    private func applyPenalties(_ logits: [Float]) -> [Float] {
        let presence = request.sampling.presencePenalty, frequency = request.sampling.frequencyPenalty
        guard presence != 0 || frequency != 0, !counts.isEmpty else { return logits }
        var adjusted = logits
        for (id, count) in counts where Int(id) < adjusted.count {
            adjusted[Int(id)] -= presence + frequency * Float(count)
        }
        return adjusted
    }

    private mutating func finish(_ output: inout SequenceOutput) {
        isFinished = true
        if reason != .stop {
            output.text += matcher.append(detokenizer.finish()).visible + matcher.finish()
        }
    }

    /// The finished sequence's result.
    var result: GenerationResult {
        precondition(isFinished)
        let end = DispatchTime.now().uptimeNanoseconds
        return GenerationResult(promptTokens: request.promptTokens, tokens: generated, text: matcher.emitted,
                                stopReason: reason, topLogprobs: logprobs, cachedPromptTokens: cachedPromptTokens,
                                prefillSeconds: Double(prefilled - admitted) / 1e9,
                                decodeSeconds: Double(end - prefilled) / 1e9)
    }
}

/// What one accepted step produced for a sequence.
public struct SequenceOutput: Sendable {
    public var token: Int32?
    /// The sampled token's log-probability (when log-probabilities were requested).
    public var logprob: TokenLogprob?
    public var topLogprobs: [TokenLogprob] = []
    /// With the first output of a request with `promptLogprobs`: prompt tokens 1... scored.
    public var promptLogprobs: [PromptTokenLogprob]?
    /// Text that became visible (may be empty while a stop string or a UTF-8 character is pending).
    public var text = ""
}
