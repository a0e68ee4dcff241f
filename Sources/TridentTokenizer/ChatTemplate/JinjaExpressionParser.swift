/// Recursive-descent parser for Jinja expressions inside one tag, with Jinja's precedence:
/// conditional < `or` < `and` < `not` < comparisons and `in` < `+ -` < `~` < `* / // %` < `**`
/// < unary minus < postfix (`.attr`, `[index]`, `(call)`, `| filter`, `is test`).
struct ExpressionParser {
    private let tokens: [JinjaToken]
    private var position = 0
    private let locator: SourceLocator
    private let tagOffset: Int

    init(tokens: [JinjaToken], locator: SourceLocator, tagOffset: Int) {
        self.tokens = tokens
        self.locator = locator
        self.tagOffset = tagOffset
    }

    // MARK: token helpers

    private var current: JinjaToken? { position < tokens.count ? tokens[position] : nil }
    private var offset: Int { current?.offset ?? tagOffset }
    var currentToken: JinjaToken? { current }
    var currentOffset: Int { offset }
    mutating func advance() { position += 1 }

    func isOp(_ s: String, ahead: Int = 0) -> Bool {
        let i = position + ahead
        return i < tokens.count && tokens[i].kind == .op && tokens[i].text == s
    }
    private func isKeyword(_ s: String, ahead: Int = 0) -> Bool {
        let i = position + ahead
        return i < tokens.count && tokens[i].kind == .name && tokens[i].text == s
    }

    mutating func accept(_ op: String) -> Bool {
        if isOp(op) { position += 1; return true }
        return false
    }

    mutating func acceptKeyword(_ word: String) -> Bool {
        if isKeyword(word) { position += 1; return true }
        return false
    }

    mutating func expect(_ op: String) throws(ChatTemplateError) {
        guard accept(op) else { throw syntax("expected '\(op)', found \(describeCurrent)") }
    }

    mutating func expectKeyword(_ word: String) throws(ChatTemplateError) {
        guard acceptKeyword(word) else { throw syntax("expected '\(word)', found \(describeCurrent)") }
    }

    mutating func expectName() throws(ChatTemplateError) -> String {
        guard let t = current, t.kind == .name else { throw syntax("expected a name, found \(describeCurrent)") }
        position += 1
        return t.text
    }

    func expectEnd() throws(ChatTemplateError) {
        if current != nil { throw syntax("unexpected \(describeCurrent) at the end of the tag") }
    }

    private var describeCurrent: String { current.map { "'\($0.text)'" } ?? "the end of the tag" }

    func syntax(_ message: String) -> ChatTemplateError {
        let p = locator.position(offset)
        return .syntax(message, line: p.line, column: p.column)
    }

    func unsupported(_ what: String) -> ChatTemplateError {
        let p = locator.position(offset)
        return .unsupported(what, line: p.line, column: p.column)
    }

    // MARK: grammar

    mutating func parseExpression(allowConditional: Bool = true) throws(ChatTemplateError) -> JinjaExpr {
        let value = try parseOr()
        guard allowConditional, acceptKeyword("if") else { return value }
        let condition = try parseOr()
        let otherwise: JinjaExpr? = acceptKeyword("else") ? try parseExpression() : nil
        return .conditional(value, condition, otherwise)
    }

    private mutating func parseOr() throws(ChatTemplateError) -> JinjaExpr {
        var left = try parseAnd()
        while isKeyword("or") {
            let at = offset
            position += 1
            left = .binary("or", left, try parseAnd(), offset: at)
        }
        return left
    }

    private mutating func parseAnd() throws(ChatTemplateError) -> JinjaExpr {
        var left = try parseNot()
        while isKeyword("and") {
            let at = offset
            position += 1
            left = .binary("and", left, try parseNot(), offset: at)
        }
        return left
    }

    private mutating func parseNot() throws(ChatTemplateError) -> JinjaExpr {
        if isKeyword("not") {
            let at = offset
            position += 1
            return .unary("not", try parseNot(), offset: at)
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws(ChatTemplateError) -> JinjaExpr {
        var left = try parseMath1()
        while true {
            let at = offset
            if let t = current, t.kind == .op, ["==", "!=", "<", ">", "<=", ">="].contains(t.text) {
                position += 1
                left = .binary(t.text, left, try parseMath1(), offset: at)
            } else if isKeyword("in") {
                position += 1
                left = .binary("in", left, try parseMath1(), offset: at)
            } else if isKeyword("not") && isKeyword("in", ahead: 1) {
                position += 2
                left = .binary("not in", left, try parseMath1(), offset: at)
            } else {
                return left
            }
        }
    }

    private mutating func parseBinaryLevel(_ ops: [String], next: (inout ExpressionParser) throws(ChatTemplateError) -> JinjaExpr)
        throws(ChatTemplateError) -> JinjaExpr {
        var left = try next(&self)
        while let t = current, t.kind == .op, ops.contains(t.text) {
            position += 1
            left = .binary(t.text, left, try next(&self), offset: t.offset)
        }
        return left
    }

    private mutating func parseMath1() throws(ChatTemplateError) -> JinjaExpr {
        try parseBinaryLevel(["+", "-"]) { (p: inout ExpressionParser) throws(ChatTemplateError) in try p.parseConcat() }
    }

    private mutating func parseConcat() throws(ChatTemplateError) -> JinjaExpr {
        try parseBinaryLevel(["~"]) { (p: inout ExpressionParser) throws(ChatTemplateError) in try p.parseMath2() }
    }

    private mutating func parseMath2() throws(ChatTemplateError) -> JinjaExpr {
        try parseBinaryLevel(["*", "/", "//", "%"]) { (p: inout ExpressionParser) throws(ChatTemplateError) in try p.parsePow() }
    }

    private mutating func parsePow() throws(ChatTemplateError) -> JinjaExpr {
        try parseBinaryLevel(["**"]) { (p: inout ExpressionParser) throws(ChatTemplateError) in try p.parseUnary() }
    }

    /// Like Jinja, `-x | f` applies `f` to `-x`: the operand of a sign takes no filters.
    private mutating func parseUnary(withFilters: Bool = true) throws(ChatTemplateError) -> JinjaExpr {
        let at = offset
        let node: JinjaExpr
        if accept("-") {
            node = .unary("-", try parseUnary(withFilters: false), offset: at)
        } else if accept("+") {
            node = try parseUnary(withFilters: false)
        } else {
            node = try parsePostfix(try parsePrimary())
        }
        return withFilters ? try parseFilters(node) : node
    }
}
