/// Builds a ``JinjaNode`` tree from lexer segments.
///
/// Statements: `for` (with `else` and an `if` filter), `if`/`elif`/`else`, `set`. Any other tag
/// (`macro`, `block`, `include`, ...) throws ``ChatTemplateError/unsupported(_:line:column:)``.
struct JinjaParser {
    private let segments: [JinjaSegment]
    private var position = 0
    let locator: SourceLocator

    init(segments: [JinjaSegment], locator: SourceLocator) {
        self.segments = segments
        self.locator = locator
    }

    /// Parses the whole template.
    mutating func parse() throws(ChatTemplateError) -> [JinjaNode] {
        let (nodes, end) = try parseBlock(until: [])
        if let end {
            throw syntax("unexpected '{% \(end.keyword) %}'", at: end.offset)
        }
        return nodes
    }

    /// A statement tag that ends the current block.
    private struct Terminator {
        var keyword: String
        var tokens: [JinjaToken]
        var offset: Int
    }

    /// Parses nodes until a statement whose keyword is in `terminators` (returned) or the end.
    private mutating func parseBlock(until terminators: Set<String>)
        throws(ChatTemplateError) -> ([JinjaNode], Terminator?) {
        var nodes: [JinjaNode] = []
        while position < segments.count {
            let segment = segments[position]
            position += 1
            switch segment {
            case .text(let t):
                nodes.append(.text(t))
            case .output(let tokens, let offset):
                var p = ExpressionParser(tokens: tokens, locator: locator, tagOffset: offset)
                let expr = try p.parseExpression()
                try p.expectEnd()
                nodes.append(.output(expr))
            case .statement(let tokens, let offset):
                guard let first = tokens.first, first.kind == .name else {
                    throw syntax("expected a statement keyword", at: offset)
                }
                if terminators.contains(first.text) {
                    return (nodes, Terminator(keyword: first.text, tokens: tokens, offset: offset))
                }
                switch first.text {
                case "for": nodes.append(try parseFor(tokens, offset: offset))
                case "if": nodes.append(try parseIf(tokens, offset: offset))
                case "set": nodes.append(try parseSet(tokens, offset: offset))
                case "endfor", "endif", "else", "elif":
                    throw syntax("unexpected '{% \(first.text) %}'", at: offset)
                default:
                    let p = locator.position(first.offset)
                    throw .unsupported("tag '{% \(first.text) %}'", line: p.line, column: p.column)
                }
            }
        }
        return (nodes, nil)
    }

    private mutating func parseFor(_ tokens: [JinjaToken], offset: Int) throws(ChatTemplateError) -> JinjaNode {
        var p = ExpressionParser(tokens: Array(tokens.dropFirst()), locator: locator, tagOffset: offset)
        var targets = [try p.expectName()]
        while p.accept(",") { targets.append(try p.expectName()) }
        try p.expectKeyword("in")
        let iterable = try p.parseExpression(allowConditional: false)
        var filter: JinjaExpr?
        if p.acceptKeyword("if") { filter = try p.parseExpression(allowConditional: false) }
        if p.acceptKeyword("recursive") {
            throw p.unsupported("'recursive' loops")
        }
        try p.expectEnd()
        let (body, end) = try parseBlock(until: ["endfor", "else"])
        var elseBody: [JinjaNode] = []
        guard var terminator = end else { throw syntax("'{% for %}' is never closed by '{% endfor %}'", at: offset) }
        if terminator.keyword == "else" {
            let (nodes, close) = try parseBlock(until: ["endfor"])
            guard let close else { throw syntax("'{% for %}' is never closed by '{% endfor %}'", at: offset) }
            elseBody = nodes
            terminator = close
        }
        try checkBare(terminator)
        return .forLoop(targets: targets, iterable: iterable, filter: filter, body: body, elseBody: elseBody,
                        offset: offset)
    }

    private mutating func parseIf(_ tokens: [JinjaToken], offset: Int) throws(ChatTemplateError) -> JinjaNode {
        var branches: [(JinjaExpr, [JinjaNode])] = []
        var conditionTokens = Array(tokens.dropFirst())
        var conditionOffset = offset
        while true {
            var p = ExpressionParser(tokens: conditionTokens, locator: locator, tagOffset: conditionOffset)
            let condition = try p.parseExpression()
            try p.expectEnd()
            let (body, end) = try parseBlock(until: ["elif", "else", "endif"])
            guard let end else { throw syntax("'{% if %}' is never closed by '{% endif %}'", at: offset) }
            branches.append((condition, body))
            switch end.keyword {
            case "elif":
                conditionTokens = Array(end.tokens.dropFirst())
                conditionOffset = end.offset
            case "else":
                try checkBare(end)
                let (elseBody, close) = try parseBlock(until: ["endif"])
                guard let close else { throw syntax("'{% if %}' is never closed by '{% endif %}'", at: offset) }
                try checkBare(close)
                return .conditional(branches, elseBody: elseBody)
            default:
                try checkBare(end)
                return .conditional(branches, elseBody: [])
            }
        }
    }

    private mutating func parseSet(_ tokens: [JinjaToken], offset: Int) throws(ChatTemplateError) -> JinjaNode {
        var p = ExpressionParser(tokens: Array(tokens.dropFirst()), locator: locator, tagOffset: offset)
        let target = try p.expectName()
        var attribute: String?
        if p.accept(".") { attribute = try p.expectName() }
        if !p.accept("=") {
            throw p.unsupported("'{% set %}' without '=' (block set)")
        }
        let value = try p.parseExpression()
        try p.expectEnd()
        return .set(target: target, attribute: attribute, value: value, offset: offset)
    }

    /// `{% endfor %}`, `{% else %}` ... must have nothing after the keyword.
    private func checkBare(_ t: Terminator) throws(ChatTemplateError) {
        if t.tokens.count > 1 { throw syntax("unexpected '\(t.tokens[1].text)' after '\(t.keyword)'", at: t.tokens[1].offset) }
    }

    private func syntax(_ message: String, at offset: Int) -> ChatTemplateError {
        let p = locator.position(offset)
        return .syntax(message, line: p.line, column: p.column)
    }
}
