import Testing
@testable import TridentTokenizer

@Suite("Chat templates vs Python jinja2")
struct ChatTemplateTests {
    struct Fixture: Decodable {
        struct Render: Decodable {
            var template: String
            var conversation: String
            var addGenerationPrompt: Bool
            var trimBlocks: Bool
            var output: String
        }
        struct Raised: Decodable {
            var template: String
            var messages: [ChatMessage]
            var message: String
        }
        var templates: [String: String]
        var conversations: [String: [ChatMessage]]
        var renders: [Render]
        var raised: Raised
    }
    static let fixture = try! TestPaths.fixture("chat-templates.json", as: Fixture.self)

    @Test("renders exactly like jinja2", arguments: ["smollm2", "llama3", "kitchen_sink"])
    func matchesJinja(name: String) throws {
        let source = try #require(Self.fixture.templates[name])
        let cases = Self.fixture.renders.filter { $0.template == name }
        #expect(cases.count >= 8)
        for c in cases {
            let template = try ChatTemplate(source, trimBlocks: c.trimBlocks, lstripBlocks: c.trimBlocks)
            let messages = try #require(Self.fixture.conversations[c.conversation])
            let out = try template.render(messages: messages, addGenerationPrompt: c.addGenerationPrompt,
                                          bosToken: "<BOS>", eosToken: "<EOS>")
            #expect(out == c.output, "\(name) / \(c.conversation) / agp=\(c.addGenerationPrompt) / trim=\(c.trimBlocks)")
        }
    }

    @Test("SmolLM2's own template adds the default system message")
    func smolLM2FromGGUF() throws {
        let prompt = try #require(try SmolLM2.tokenizer.applyChatTemplate([ChatMessage(role: "user", content: "Hi")]))
        #expect(prompt == "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
                + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        let ids = SmolLM2.tokenizer.encode(prompt, parseSpecial: true)
        #expect(ids.first == 1)
        #expect(ids.filter { $0 == 1 }.count == 3 && ids.filter { $0 == 2 }.count == 2)
    }

    @Test("raise_exception surfaces the template's message")
    func raiseException() throws {
        let r = Self.fixture.raised
        let template = try ChatTemplate(try #require(Self.fixture.templates[r.template]))
        #expect(throws: ChatTemplateError.raised(r.message)) {
            try template.render(messages: r.messages, addGenerationPrompt: false)
        }
    }

    @Test("unsupported constructs are named with their position")
    func unsupported() {
        #expect(throws: ChatTemplateError.unsupported("tag '{% macro %}'", line: 2, column: 4)) {
            try ChatTemplate("x\n{% macro f() %}{% endmacro %}")
        }
        #expect(throws: ChatTemplateError.unsupported("filter 'wordcount'", line: 1, column: 6)) {
            try ChatTemplate("{{ x | wordcount }}").render(messages: [], addGenerationPrompt: false)
        }
        #expect(throws: ChatTemplateError.syntax("'{% if %}' is never closed by '{% endif %}'", line: 1, column: 1)) {
            try ChatTemplate("{% if x %}a")
        }
        #expect(throws: ChatTemplateError.syntax("tag opened here is never closed", line: 1, column: 3)) {
            try ChatTemplate("ab{{ x ")
        }
        #expect(throws: ChatTemplateError.self) {
            try ChatTemplate("{{ 'a' + 1 }}").render(messages: [], addGenerationPrompt: false)
        }
    }

    @Test("expressions follow Python semantics")
    func expressions() throws {
        func render(_ s: String) throws -> String {
            try ChatTemplate(s).render(messages: [ChatMessage(role: "user", content: " x ")], addGenerationPrompt: true)
        }
        #expect(try render("{{ 1 + 2 * 3 }}|{{ 7 / 2 }}|{{ -7 // 2 }}|{{ 2 ** 10 }}|{{ 1 == 1.0 }}") == "7|3.5|-4|1024|True")
        #expect(try render("{{ messages[0]['content'] | trim }}{{ messages[-1].role }}") == "xuser")
        #expect(try render("{{ 'abc'[::-1] }}{{ [1,2,3][1:] }}{{ none }}{{ missing }}") == "cba[2, 3]None")
        #expect(try render("{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% else %}no{% endfor %}") == "37")
        #expect(try render("{% for x in [] %}x{% else %}empty{% endfor %}") == "empty")
        #expect(try render("{% set x = 1 %}{% for i in range(2) %}{% set x = 5 %}{% endfor %}{{ x }}") == "1")
        #expect(try render("{{ 'yes' if add_generation_prompt else 'no' }}{{ not true or false }}") == "yesFalse")
        #expect(try render("{{ \"it's\" }}{{ ['it\\'s'] }}") == "it's[\"it's\"]")
    }
}
