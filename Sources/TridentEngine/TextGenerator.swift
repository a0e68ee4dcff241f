import Foundation
import TridentModel
import TridentTokenizer

/// The generation loop: prefill the prompt, then sample and decode one token at a time,
/// streaming text as it becomes complete UTF-8 and stopping at end-of-generation tokens,
/// stop strings or the token limit.
public final class TextGenerator {
    public let runner: any ModelRunner
    public let tokenizer: Tokenizer
    /// Longest prompt chunk run as one batch.
    public var prefillChunk = 512

    public init(runner: any ModelRunner, tokenizer: Tokenizer) {
        self.runner = runner
        self.tokenizer = tokenizer
    }

    /// Generates a continuation of `request.promptTokens` in sequence slot `slot`.
    /// - Parameter onText: called with each newly completed piece of text, in order.
    public func generate(_ request: GenerationRequest, slot: Int = 0,
                         onText: (String) -> Void = { _ in }) throws -> GenerationResult {
        let prompt = request.promptTokens
        guard !prompt.isEmpty else { throw GenerationError.emptyPrompt }
        guard prompt.count < runner.capacity else {
            throw GenerationError.promptTooLong(tokens: prompt.count, capacity: runner.capacity)
        }
        var sampler = Sampler(request.sampling)
        var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
        var matcher = StopStringMatcher(request.stopStrings)
        var history = prompt
        var generated: [Int32] = []
        var logprobs: [[TokenLogprob]] = []
        var reason = StopReason.length

        let prefillStart = DispatchTime.now().uptimeNanoseconds
        var logits: [Float] = []
        var position = 0
        while position < prompt.count {
            let end = min(prompt.count, position + prefillChunk)
            logits = try runner.forward(tokens: Array(prompt[position..<end]), slot: slot, start: position,
                                        logits: end == prompt.count ? .last : .none)
            position = end
        }
        let decodeStart = DispatchTime.now().uptimeNanoseconds

        while generated.count < request.maxTokens {
            if request.topLogprobs > 0 {
                logprobs.append(Sampler.topLogProbabilities(logits, k: request.topLogprobs)
                    .map { TokenLogprob(id: $0.id, logprob: $0.logProbability) })
            }
            let next = sampler.sample(logits: logits, history: history)
            generated.append(next)
            history.append(next)
            if !request.ignoreEndOfGeneration && tokenizer.isEndOfGeneration(Int(next)) {
                reason = .eos
                break
            }
            let (visible, stopped) = matcher.append(detokenizer.append(Int(next)))
            if !visible.isEmpty { onText(visible) }
            if stopped { reason = .stop; break }
            if generated.count == request.maxTokens { break }
            if position + 1 > runner.capacity - 1 { break }  // context full: stop with .length
            logits = try runner.forward(tokens: [next], slot: slot, start: position, logits: .last)
            position += 1
        }
        if reason != .stop {
            let rest = matcher.append(detokenizer.finish()).visible + matcher.finish()
            if !rest.isEmpty { onText(rest) }
        }
        let end = DispatchTime.now().uptimeNanoseconds
        return GenerationResult(promptTokens: prompt, tokens: generated, text: matcher.emitted, stopReason: reason,
                                topLogprobs: logprobs,
                                prefillSeconds: Double(decodeStart - prefillStart) / 1e9,
                                decodeSeconds: Double(end - decodeStart) / 1e9)
    }
}

/// Why a generation request was refused.
public enum GenerationError: Error, CustomStringConvertible, Equatable {
    case emptyPrompt
    case promptTooLong(tokens: Int, capacity: Int)

    public var description: String {
        switch self {
        case .emptyPrompt: return "the prompt is empty (no tokens)"
        case let .promptTooLong(tokens, capacity):
            return "the prompt has \(tokens) tokens but the context holds \(capacity); shorten it or raise --context"
        }
    }
}
