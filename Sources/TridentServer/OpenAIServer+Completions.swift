import Foundation
import Hummingbird
import TridentEngine

extension OpenAIServer {
    /// `POST /v1/completions`.
    func completions(_ request: Request) async -> Response {
        await watchingClient(request) { fields, watch in try await completions(fields, watch: watch) }
    }

    private func completions(_ fields: RequestFields, watch: ClientWatch) async throws -> Response {
        let parsed = try CompletionRequest(fields)
        try checkModel(parsed.model)
        let limits = try readyLimits()
        var prompts: [(ids: [Int32], text: String)] = []
        var requests: [GenerationRequest] = []
        for prompt in parsed.prompts {
            let tokens = try CompletionRequest.tokens(prompt, tokenizer: tokenizer)
            prompts.append(tokens)
            requests += try parsed.options.requests(prompt: tokens.ids, capacity: limits.capacity, defaultMaxTokens: 16)
        }
        let scorePrompt = parsed.echo && parsed.options.logprobs
        for i in requests.indices { requests[i].promptLogprobs = scorePrompt }
        let streams = try ChoiceStreams.start(requests, engine: engine)
        let engine = self.engine
        watch.onClose { streams.cancel(engine) }
        let head = CompletionResponse(id: OpenAIEncoding.requestID("cmpl"), created: OpenAIEncoding.now,
                                      model: configuration.servedModelName, choices: [])
        let promptFor = { (choice: Int) in prompts[choice / parsed.options.n] }
        let promptTokens = prompts.reduce(0) { $0 + $1.ids.count }
        if parsed.options.stream {
            let echo = parsed.echo ? requests.indices.map { promptFor($0) } : nil
            return streamCompletion(streams, head: head, echo: echo, scorePrompt: scorePrompt,
                                    includeUsage: parsed.options.includeUsage, promptTokens: promptTokens)
        }
        let choices = try await CollectedChoice.collect(streams, count: requests.count, watch: watch)
        var response = head
        response.choices = choices.enumerated().map { index, choice in
            let result = choice.result!
            let prompt = promptFor(index)
            let prefix = parsed.echo ? prompt.text : ""
            var logprobs: CompletionLogprobs?
            if parsed.options.logprobs {
                var all = scorePrompt ? formatter.prompt(prompt.ids, scores: choice.outputs.first?.promptLogprobs ?? [])
                                      : CompletionLogprobs()
                all.append(formatter.completion(choice.outputs, offset: prefix.utf8.count))
                logprobs = all
            }
            return CompletionResponse.Choice(index: index, text: prefix + result.text, logprobs: logprobs,
                                             finishReason: result.stopReason.finishReason)
        }
        response.usage = Usage(promptTokens: promptTokens,
                               completionTokens: choices.reduce(0) { $0 + $1.result!.tokens.count },
                               cachedTokens: choices.reduce(0) { $0 + $1.result!.cachedPromptTokens })
        return OpenAIEncoding.response(response)
    }

    /// The chunks of a streamed completion: per output a text delta (with its log-probabilities),
    /// per finished choice an empty chunk with its `finish_reason`, then usage (when asked) and
    /// `[DONE]`. With `echo`, each choice starts with its prompt's text (once the prompt is
    /// scored, with its log-probabilities, when `scorePrompt`). A write that fails (the client
    /// left) cancels every choice.
    private func streamCompletion(_ streams: ChoiceStreams, head: CompletionResponse, echo: [(ids: [Int32], text: String)]?,
                                  scorePrompt: Bool, includeUsage: Bool, promptTokens: Int) -> Response {
        let engine = self.engine, formatter = self.formatter
        let body = ResponseBody { writer in
            var offsets = [Int](repeating: 0, count: streams.tickets.count)
            var completionTokens = 0, cachedTokens = 0
            func chunk(_ choice: CompletionResponse.Choice) -> ByteBuffer {
                var c = head
                c.choices = [choice]
                return SSE.event(c)
            }
            var echoPending = [Bool](repeating: echo != nil, count: streams.tickets.count)
            func writeEcho(_ index: Int, scores: [PromptTokenLogprob]?) async throws {
                guard echoPending[index], let prompt = echo?[index] else { return }
                echoPending[index] = false
                offsets[index] = prompt.text.utf8.count
                let logprobs = scores.map { formatter.prompt(prompt.ids, scores: $0) }
                try await writer.write(chunk(.init(index: index, text: prompt.text, logprobs: logprobs)))
            }
            do {
                if !scorePrompt {
                    for index in offsets.indices { try await writeEcho(index, scores: nil) }
                }
                for await (index, event) in streams.events {
                    switch event {
                    case .output(let output):
                        try await writeEcho(index, scores: output.promptLogprobs ?? [])
                        let logprobs = output.logprob == nil ? nil : formatter.completion([output], offset: offsets[index])
                        offsets[index] += output.text.utf8.count
                        try await writer.write(chunk(.init(index: index, text: output.text, logprobs: logprobs)))
                    case .finished(let result):
                        completionTokens += result.tokens.count
                        cachedTokens += result.cachedPromptTokens
                        try await writer.write(chunk(.init(index: index, text: "", finishReason: result.stopReason.finishReason)))
                    case .failed(let why):
                        try await writer.write(SSE.error(.unavailable(why)))
                    }
                }
                if includeUsage {
                    var last = head
                    last.usage = Usage(promptTokens: promptTokens, completionTokens: completionTokens, cachedTokens: cachedTokens)
                    try await writer.write(SSE.event(last))
                }
                try await writer.write(SSE.done)
                try await writer.finish(nil)
            } catch {
                streams.cancel(engine)
                throw error
            }
        }
        return Response(status: .ok, headers: SSE.headers, body: body)
    }
}
