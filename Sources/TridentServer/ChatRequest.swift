import TridentTokenizer

/// A validated `POST /v1/chat/completions` body.
struct ChatRequest: Sendable {
    var model: String?
    var messages: [ChatMessage]
    var options: GenerationOptions

    static let roles: Set<String> = ["system", "developer", "user", "assistant", "tool"]
    static let maxMessages = 4096

    init(_ f: RequestFields) throws(APIError) {
        model = try f.string("model")
        guard let value = f["messages"] else {
            throw .invalid("'messages' is required", param: "messages", code: "missing")
        }
        guard case .array(let items) = value else { throw .wrongType("messages", expected: "a list", found: value) }
        guard !items.isEmpty else { throw .invalid("'messages' is empty", param: "messages") }
        guard items.count <= Self.maxMessages else {
            throw .invalid("at most \(Self.maxMessages) messages", param: "messages")
        }
        var messages: [ChatMessage] = []
        for (i, item) in items.enumerated() { messages.append(try Self.message(item, index: i)) }
        self.messages = messages
        options = try GenerationOptions(f, chat: true)
    }

    private static func message(_ item: JSONValue, index: Int) throws(APIError) -> ChatMessage {
        let param = "messages[\(index)]"
        guard case .object(let object) = item else { throw .wrongType(param, expected: "an object", found: item) }
        let fields = RequestFields(object: object)
        guard let role = try fields.string("role") else {
            throw .invalid("'\(param).role' is required", param: "\(param).role", code: "missing")
        }
        guard roles.contains(role) else {
            throw .invalid("'\(param).role' must be one of \(roles.sorted().joined(separator: ", ")), found '\(role)'",
                           param: "\(param).role", code: "invalid_value")
        }
        let content = try Self.content(fields["content"], param: "\(param).content", optional: role == "assistant")
        // Templates written for system prompts know no "developer" role.
        return ChatMessage(role: role == "developer" ? "system" : role, content: content)
    }

    /// A string, or a list of `{"type": "text", "text": ...}` parts joined by newlines.
    private static func content(_ value: JSONValue?, param: String, optional: Bool) throws(APIError) -> String {
        guard let value else {
            if optional { return "" }
            throw .invalid("'\(param)' is required", param: param, code: "missing")
        }
        switch value {
        case .string(let s): return s
        case .array(let parts):
            var texts: [String] = []
            for part in parts {
                guard case .object(let o) = part, o["type"] == .string("text"), case .string(let text)? = o["text"] else {
                    throw .invalid("'\(param)' parts must be {\"type\": \"text\", \"text\": ...}", param: param)
                }
                texts.append(text)
            }
            return texts.joined(separator: "\n")
        default:
            throw .wrongType(param, expected: "a string or a list of text parts", found: value)
        }
    }

    /// The messages rendered with the model's chat template and tokenized.
    /// - Throws: `APIError` (400) when the model has no template or the template refuses the messages.
    func promptTokens(tokenizer: Tokenizer) throws(APIError) -> [Int32] {
        let rendered: String?
        do {
            rendered = try tokenizer.applyChatTemplate(messages)
        } catch {
            throw .invalid("the chat template refused the messages: \(error)", param: "messages")
        }
        guard let rendered else {
            throw .invalid("this model has no chat template; use /v1/completions", param: "messages")
        }
        return tokenizer.encode(rendered, parseSpecial: true).map { Int32($0) }
    }
}
