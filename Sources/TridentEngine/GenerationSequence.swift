import Foundation
import TridentTokenizer

/// One sequence being generated: its sampler, streaming detokenizer, stop conditions and
/// position. The generators feed it the logits of its last position; it says which token to
/// run next, or that it is finished.
struct GenerationSequence {
    let request: GenerationRequest
    private var sampler: Sampler
    private var detokenizer: StreamingDetokenizer
    private var matcher: StopStringMatcher
    private let isEndOfGeneration: (Int) -> Bool
    private var history: [Int32]
    private(set) var generated: [Int32] = []
    private var logprobs: [[TokenLogprob]] = []
    private(set) var reason = StopReason.length
    /// Positions of the sequence already in the KV cache.
    private(set) var position = 0
    /// The token to run next (after the prefill).
    private(set) var nextToken: Int32?
    private(set) var isFinished = false
    private let admitted = DispatchTime.now().uptimeNanoseconds
    private var prefilled: UInt64 = 0

    init(_ request: GenerationRequest, tokenizer: Tokenizer) {
        self.request = request
        sampler = Sampler(request.sampling)
        detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
        matcher = StopStringMatcher(request.stopStrings)
        isEndOfGeneration = { tokenizer.isEndOfGeneration($0) }
        history = request.promptTokens
    }

    /// Whether the prompt still has to be run.
    var needsPrefill: Bool { position == 0 }

    /// Takes the last-position logits of the tokens just run (`ran` of them: the whole prompt,
    /// or the one `nextToken`), samples, and streams newly completed text to `onText`.
    /// Afterwards either `nextToken` is set or `isFinished` is true.
    /// - Parameter capacity: positions the sequence's KV-cache slot holds.
    mutating func accept(logits: [Float], ran: Int, capacity: Int, onText: (String) -> Void) {
        precondition(!isFinished, "the sequence is finished")
        position += ran
        if prefilled == 0 { prefilled = DispatchTime.now().uptimeNanoseconds }
        nextToken = nil
        guard generated.count < request.maxTokens else { return finish(onText) }
        if request.topLogprobs > 0 {
            logprobs.append(Sampler.topLogProbabilities(logits, k: request.topLogprobs)
                .map { TokenLogprob(id: $0.id, logprob: $0.logProbability) })
        }
        let next = sampler.sample(logits: logits, history: history)
        generated.append(next)
        history.append(next)
        if !request.ignoreEndOfGeneration && isEndOfGeneration(Int(next)) {
            reason = .eos
            return finish(onText)
        }
        let (visible, stopped) = matcher.append(detokenizer.append(Int(next)))
        if !visible.isEmpty { onText(visible) }
        if stopped {
            reason = .stop
            return finish(onText)
        }
        // Out of tokens, or no room to run `next` (the context is full): stop with `.length`.
        guard generated.count < request.maxTokens, position + 1 <= capacity - 1 else { return finish(onText) }
        nextToken = next
    }

    private mutating func finish(_ onText: (String) -> Void) {
        isFinished = true
        if reason != .stop {
            let rest = matcher.append(detokenizer.finish()).visible + matcher.finish()
            if !rest.isEmpty { onText(rest) }
        }
    }

    /// The finished sequence's result.
    var result: GenerationResult {
        precondition(isFinished)
        let end = DispatchTime.now().uptimeNanoseconds
        return GenerationResult(promptTokens: request.promptTokens, tokens: generated, text: matcher.emitted,
                                stopReason: reason, topLogprobs: logprobs,
                                prefillSeconds: Double(prefilled - admitted) / 1e9,
                                decodeSeconds: Double(end - prefilled) / 1e9)
    }
}
