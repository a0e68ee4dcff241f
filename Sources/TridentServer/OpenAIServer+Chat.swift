import Foundation
import Hummingbird
import TridentEngine

extension OpenAIServer {
    /// `POST /v1/chat/completions`.
    func chat(_ request: Request) async -> Response {
        await watchingClient(request) { fields, watch in try await chat(fields, watch: watch) }
    }

    private func chat(_ fields: RequestFields, watch: ClientWatch) async throws -> Response {
        let parsed = try ChatRequest(fields)
        try checkModel(parsed.model)
        let limits = try readyLimits()
        let prompt = try parsed.promptTokens(tokenizer: tokenizer)
        let requests = try parsed.options.requests(prompt: prompt, capacity: limits.capacity, defaultMaxTokens: nil)
        let streams = try ChoiceStreams.start(requests, engine: engine)
        let engine = self.engine
        watch.onClose { streams.cancel(engine) }
        let head = ChatResponse(id: OpenAIEncoding.requestID("chatcmpl"), object: "chat.completion",
                                created: OpenAIEncoding.now, model: configuration.servedModelName, choices: [])
        let options = parsed.options
        if options.stream {
            return streamChat(streams, head: head, options: options, promptTokens: prompt.count)
        }
        let choices = try await CollectedChoice.collect(streams, count: requests.count, watch: watch)
        var response = head
        response.choices = choices.enumerated().map { index, choice in
            let result = choice.result!
            return ChatResponse.Choice(
                index: index, message: .init(role: "assistant", content: result.text),
                logprobs: options.logprobs ? formatter.chat(choice.outputs, withTop: options.topLogprobs > 0) : nil,
                finishReason: result.stopReason.finishReason)
        }
        response.usage = Usage(promptTokens: prompt.count,
                               completionTokens: choices.reduce(0) { $0 + $1.result!.tokens.count },
                               cachedTokens: choices.reduce(0) { $0 + $1.result!.cachedPromptTokens })
        return OpenAIEncoding.response(response)
    }

    /// The chunks of a streamed chat completion: per choice a first delta with the role, then
    /// content deltas, a last delta with the `finish_reason`, usage (when asked) and `[DONE]`.
    private func streamChat(_ streams: ChoiceStreams, head: ChatResponse, options: GenerationOptions,
                            promptTokens: Int) -> Response {
        let engine = self.engine, formatter = self.formatter
        var head = head
        head.object = "chat.completion.chunk"
        let chunkHead = head
        let body = ResponseBody { writer in
            var completionTokens = 0, cachedTokens = 0
            func chunk(_ choice: ChatResponse.Choice) -> ByteBuffer {
                var c = chunkHead
                c.choices = [choice]
                return SSE.event(c)
            }
            do {
                for index in streams.tickets.indices {
                    try await writer.write(chunk(.init(index: index, delta: .init(role: "assistant", content: ""))))
                }
                for await (index, event) in streams.events {
                    switch event {
                    case .output(let output):
                        let logprobs = options.logprobs && output.logprob != nil
                            ? formatter.chat([output], withTop: options.topLogprobs > 0) : nil
                        if output.text.isEmpty && (logprobs?.content.isEmpty ?? true) { continue }
                        try await writer.write(chunk(.init(index: index, delta: .init(content: output.text),
                                                           logprobs: logprobs)))
                    case .finished(let result):
                        completionTokens += result.tokens.count
                        cachedTokens += result.cachedPromptTokens
                        try await writer.write(chunk(.init(index: index, delta: .init(),
                                                           finishReason: result.stopReason.finishReason)))
                    case .failed(let why):
                        try await writer.write(SSE.error(.unavailable(why)))
                    }
                }
                if options.includeUsage {
                    var last = chunkHead
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
