/// One chat message for a template: `role` ("system", "user", "assistant", ...) and `content`.
public struct ChatMessage: Sendable, Equatable, Codable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// A Jinja chat template (e.g. GGUF `tokenizer.chat_template`), parsed once, rendered many times.
///
/// Renders like Python jinja2 with Hugging Face's settings (`trim_blocks`, `lstrip_blocks`).
/// The subset covers the templates of common models: `{{ }}`, `{% for %}` with `loop.*`,
/// `{% if/elif/else %}`, `{% set %}` (including `namespace()` attributes), `+`, `~`, arithmetic,
/// comparisons, `and/or/not`, `in`, `is` tests, indexing, slicing, attributes, filters (`trim`,
/// `length`, `upper`, `lower`, `default`, `tojson`, ...), string and dict methods (`.strip()`,
/// `.startswith()`, `.items()`, ...), `raise_exception`, whitespace control `{%-`/`-%}`.
/// Anything else is rejected with ``ChatTemplateError/unsupported(_:line:column:)`` naming it.
///
/// ```swift
/// let template = try ChatTemplate(vocabulary.chatTemplate!)
/// let prompt = try template.render(messages: [ChatMessage(role: "user", content: "Hi")],
///                                  addGenerationPrompt: true, bosToken: "<|im_start|>",
///                                  eosToken: "<|im_end|>")
/// ```
public struct ChatTemplate: Sendable {
    /// The template text.
    public let source: String
    private let nodes: [JinjaNode]
    private let locator: SourceLocator

    /// Parses `source`.
    /// - Parameters:
    ///   - trimBlocks: drop the first newline after a block tag (jinja2 `trim_blocks`).
    ///   - lstripBlocks: drop spaces and tabs before a block tag on its own line (`lstrip_blocks`).
    /// - Throws: ``ChatTemplateError/syntax(_:line:column:)`` or `.unsupported` with the position.
    public init(_ source: String, trimBlocks: Bool = true, lstripBlocks: Bool = true) throws(ChatTemplateError) {
        let lexer = JinjaLexer(source, trimBlocks: trimBlocks, lstripBlocks: lstripBlocks)
        var parser = JinjaParser(segments: try lexer.segments(), locator: lexer.locator)
        self.source = source
        self.nodes = try parser.parse()
        self.locator = lexer.locator
    }

    /// Renders the conversation.
    /// - Parameters:
    ///   - messages: available to the template as `messages`, a list of `{role, content}` dicts.
    ///   - addGenerationPrompt: the template's `add_generation_prompt` (open an assistant turn).
    ///   - bosToken, eosToken: the texts of the model's BOS / EOS tokens (`bos_token`, `eos_token`).
    ///   - context: further variables (e.g. `tools`), overriding nothing above.
    /// - Throws: ``ChatTemplateError/runtime(_:line:column:)`` on a type error,
    ///   ``ChatTemplateError/raised(_:)`` when the template calls `raise_exception`.
    public func render(messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String = "",
                       eosToken: String = "", context: [String: JinjaValue] = [:]) throws(ChatTemplateError) -> String {
        var globals = context
        globals["messages"] = .list(messages.map {
            .dict(JinjaDict([("role", .string($0.role)), ("content", .string($0.content))]))
        })
        globals["add_generation_prompt"] = .bool(addGenerationPrompt)
        globals["bos_token"] = .string(bosToken)
        globals["eos_token"] = .string(eosToken)
        var evaluator = JinjaEvaluator(locator: locator, globals: globals)
        var out = ""
        try evaluator.render(nodes, into: &out)
        return out
    }
}

extension Tokenizer {
    /// The vocabulary's chat template, parsed; nil when the model ships none.
    /// - Throws: ``ChatTemplateError`` if the template does not parse.
    public func chatTemplate() throws(ChatTemplateError) -> ChatTemplate? {
        try parsedChatTemplate?.get()
    }

    /// Renders the vocabulary's chat template with this tokenizer's BOS / EOS texts.
    /// Encode the result with `parseSpecial: true` so its control-token texts become ids.
    /// - Returns: nil when the model ships no template.
    /// - Throws: ``ChatTemplateError`` if the template does not parse or fails while rendering.
    public func applyChatTemplate(_ messages: [ChatMessage], addGenerationPrompt: Bool = true)
        throws(ChatTemplateError) -> String? {
        guard let template = try chatTemplate() else { return nil }
        return try template.render(messages: messages, addGenerationPrompt: addGenerationPrompt,
                                   bosToken: vocabulary.bosId.map { vocabulary.tokens[$0] } ?? "",
                                   eosToken: vocabulary.eosId.map { vocabulary.tokens[$0] } ?? "")
    }
}
