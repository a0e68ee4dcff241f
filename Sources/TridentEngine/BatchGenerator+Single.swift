extension BatchGenerator {
    /// Generates a continuation of one prompt (in sequence slot 0): prefill, then sample and
    /// decode a token at a time, streaming text as it becomes complete UTF-8 and stopping at
    /// end-of-generation tokens, stop strings or the token limit.
    /// - Parameter onText: called with each newly completed piece of text, in order.
    public func generate(_ request: GenerationRequest, onText: (String) -> Void = { _ in }) throws -> GenerationResult {
        do {
            return try generate([request], onText: { onText($1) })[0]
        } catch GenerationError.emptyPrompt {
            throw GenerationError.emptyPrompt(index: nil)
        } catch let GenerationError.promptTooLong(_, tokens, capacity) {
            throw GenerationError.promptTooLong(index: nil, tokens: tokens, capacity: capacity)
        }
    }
}
