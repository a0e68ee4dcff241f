import Foundation
import TridentEngine
import TridentTokenizer

/// The running choices of one API request: their engine tickets and one merged stream of
/// `(choice index, event)`. Dropping or cancelling the stream cancels every choice.
struct ChoiceStreams: Sendable {
    let tickets: [Int]
    let events: AsyncStream<(Int, EngineEvent)>

    /// Submits `requests` (all or none) and merges their event streams.
    /// - Throws: `APIError`: 503 when the engine is not ready, 429 when the queue is full, 400
    ///   for a request that does not fit.
    static func start(_ requests: [GenerationRequest], engine: EngineLoop) throws(APIError) -> ChoiceStreams {
        do {
            let (tickets, events) = try engine.submit(requests)
            return ChoiceStreams(tickets: tickets, events: events)
        } catch {
            switch error {
            case .unavailable(let state): throw .unavailable(Self.describe(state))
            case .queueFull(let limit): throw .tooManyRequests("the server is busy: \(limit) requests are waiting; retry later")
            case .invalid(let message): throw .invalid(message)
            }
        }
    }

    static func describe(_ state: EngineState) -> String {
        switch state {
        case .loading: "the model is still loading"
        case .draining, .stopped: "the server is shutting down"
        case .failed(let why): "the engine failed: \(why)"
        case .ready: "the engine is ready"
        }
    }

    /// Cancels every choice (the client left).
    func cancel(_ engine: EngineLoop) {
        for ticket in tickets { engine.cancel(ticket) }
    }
}

/// What one choice produced, collected for a non-streaming answer.
struct CollectedChoice {
    var outputs: [SequenceOutput] = []
    var result: GenerationResult?
    var failure: String?

    /// Waits for every choice of `streams` to finish.
    /// - Throws: `APIError`: 503 when the engine failed or shut down first, 499 when the
    ///   client left (`watch` cancelled the choices).
    static func collect(_ streams: ChoiceStreams, count: Int, watch: ClientWatch) async throws(APIError) -> [CollectedChoice] {
        var choices = [CollectedChoice](repeating: CollectedChoice(), count: count)
        for await (index, event) in streams.events {
            switch event {
            case .output(let output): choices[index].outputs.append(output)
            case .finished(let result): choices[index].result = result
            case .failed(let why): choices[index].failure = why
            }
        }
        if watch.clientLeft { throw .clientClosed }
        if let failure = choices.compactMap(\.failure).first { throw .unavailable(failure) }
        guard choices.allSatisfy({ $0.result != nil }) else { throw .unavailable("the request was cancelled") }
        return choices
    }
}

/// Token texts and log-probabilities as the two OpenAI APIs spell them.
struct LogprobFormatter: Sendable {
    let tokenizer: Tokenizer

    func bytes(_ id: Int32) -> [UInt8] { tokenizer.bytes(of: Int(id)) }
    func text(_ id: Int32) -> String { String(decoding: bytes(id), as: UTF8.self) }

    /// A finite log-probability (JSON has no -infinity).
    static func finite(_ value: Float) -> Float { value.isFinite ? value : -9999 }

    /// Outputs that carry a token worth reporting: end-of-generation tokens are left out.
    func reported(_ outputs: [SequenceOutput]) -> [SequenceOutput] {
        outputs.filter { $0.logprob != nil && !tokenizer.isEndOfGeneration(Int($0.token ?? 0)) }
    }

    func completion(_ outputs: [SequenceOutput], offset: Int) -> CompletionLogprobs {
        var out = CompletionLogprobs()
        var position = offset
        for output in reported(outputs) {
            let token = text(output.logprob!.id)
            out.tokens.append(token)
            out.tokenLogprobs.append(Self.finite(output.logprob!.logprob))
            out.topLogprobs.append(topDictionary(output.topLogprobs))
            out.textOffset.append(position)
            position += token.utf8.count
        }
        return out
    }

    /// The prompt `ids` as `echo` with `logprobs` reports them (text offsets from 0): the first
    /// token with null log-probabilities, the others with their `scores`.
    func prompt(_ ids: [Int32], scores: [PromptTokenLogprob]) -> CompletionLogprobs {
        var out = CompletionLogprobs()
        var position = 0
        for (i, id) in ids.enumerated() {
            let token = text(id)
            out.tokens.append(token)
            out.textOffset.append(position)
            position += token.utf8.count
            guard i > 0, i - 1 < scores.count else {
                out.tokenLogprobs.append(nil)
                out.topLogprobs.append(nil)
                continue
            }
            out.tokenLogprobs.append(Self.finite(scores[i - 1].token.logprob))
            out.topLogprobs.append(topDictionary(scores[i - 1].top))
        }
        return out
    }

    /// `{token text: log-probability}` (tokens with the same text keep the larger).
    private func topDictionary(_ top: [TokenLogprob]) -> [String: Float] {
        var out: [String: Float] = [:]
        for t in top { out[text(t.id)] = max(out[text(t.id)] ?? -.infinity, Self.finite(t.logprob)) }
        return out
    }

    func chat(_ outputs: [SequenceOutput], withTop: Bool) -> ChatLogprobs {
        ChatLogprobs(content: reported(outputs).map { output in
            let chosen = output.logprob!
            return ChatLogprobs.Entry(
                token: text(chosen.id), logprob: Self.finite(chosen.logprob), bytes: bytes(chosen.id),
                topLogprobs: withTop ? output.topLogprobs.map {
                    ChatLogprobs.Top(token: text($0.id), logprob: Self.finite($0.logprob), bytes: bytes($0.id))
                } : [])
        })
    }
}
