import TridentTokenizer

/// A validated `POST /v1/completions` body.
struct CompletionRequest: Sendable {
    var model: String?
    /// One or more prompts (a string, a list of strings, a list of token ids or a list of such lists).
    var prompts: [PromptInput]
    var echo: Bool
    var options: GenerationOptions

    /// A prompt as text or as token ids.
    enum PromptInput: Sendable, Equatable {
        case text(String)
        case tokens([Int32])
    }

    static let maxPrompts = 16

    init(_ f: RequestFields) throws(APIError) {
        model = try f.string("model")
        guard let prompt = f["prompt"] else { throw .invalid("'prompt' is required", param: "prompt", code: "missing") }
        prompts = try Self.prompts(prompt)
        echo = try f.bool("echo") ?? false
        options = try GenerationOptions(f, chat: false)
        if options.n * prompts.count > Int(GenerationOptions.maxChoices) {
            throw .invalid("'n' times the prompts may be at most \(GenerationOptions.maxChoices)", param: "n")
        }
    }

    private static func prompts(_ value: JSONValue) throws(APIError) -> [PromptInput] {
        let expected = "a string, a list of strings or a list of token ids"
        switch value {
        case .string(let s):
            return [.text(s)]
        case .array(let items):
            guard !items.isEmpty else { throw .invalid("'prompt' is empty", param: "prompt") }
            if case .integer = items[0] { return [.tokens(try tokenIDs(items))] }
            guard items.count <= maxPrompts else { throw .invalid("at most \(maxPrompts) prompts", param: "prompt") }
            var out: [PromptInput] = []
            for item in items {
                switch item {
                case .string(let s): out.append(.text(s))
                case .array(let ids) where !ids.isEmpty: out.append(.tokens(try tokenIDs(ids)))
                default: throw .wrongType("prompt", expected: expected, found: item)
                }
            }
            return out
        default:
            throw .wrongType("prompt", expected: expected, found: value)
        }
    }

    private static func tokenIDs(_ items: [JSONValue]) throws(APIError) -> [Int32] {
        var ids: [Int32] = []
        for item in items {
            guard case .integer(let i) = item, i >= 0, i <= Int64(Int32.max) else {
                throw .invalid("token ids in 'prompt' must be non-negative integers", param: "prompt")
            }
            ids.append(Int32(i))
        }
        return ids
    }

    /// The prompt's token ids, and its text for `echo`.
    /// - Throws: `APIError` (400) for an empty prompt or a token id outside the vocabulary.
    static func tokens(_ prompt: PromptInput, tokenizer: Tokenizer) throws(APIError) -> (ids: [Int32], text: String) {
        switch prompt {
        case .text(let text):
            guard !text.isEmpty else { throw .invalid("the prompt is empty", param: "prompt") }
            let ids = tokenizer.encode(text, parseSpecial: true).map { Int32($0) }
            guard !ids.isEmpty else { throw .invalid("the prompt has no tokens", param: "prompt") }
            return (ids, text)
        case .tokens(let ids):
            if let bad = ids.first(where: { Int($0) >= tokenizer.vocabularySize }) {
                throw .invalid("token id \(bad) is outside the vocabulary of \(tokenizer.vocabularySize)", param: "prompt")
            }
            return (ids, tokenizer.decode(ids.map(Int.init)))
        }
    }
}
