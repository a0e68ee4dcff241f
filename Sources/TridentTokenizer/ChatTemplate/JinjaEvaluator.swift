/// Renders a parsed template: walks ``JinjaNode``s, evaluates ``JinjaExpr``s.
///
/// Scoping follows Jinja: each `for` iteration gets its own scope (assignments inside do not
/// leak out; use `namespace()`), `if` does not.
struct JinjaEvaluator {
    let locator: SourceLocator
    /// Innermost scope last.
    private var scopes: [[String: JinjaValue]]
    /// Attribute storage of `namespace()` objects, by handle.
    var namespaces: [JinjaDict] = []

    init(locator: SourceLocator, globals: [String: JinjaValue]) {
        self.locator = locator
        self.scopes = [globals]
    }

    func error(_ message: String, at offset: Int) -> ChatTemplateError {
        let p = locator.position(offset)
        return .runtime(message, line: p.line, column: p.column)
    }

    func unsupported(_ what: String, at offset: Int) -> ChatTemplateError {
        let p = locator.position(offset)
        return .unsupported(what, line: p.line, column: p.column)
    }

    func lookup(_ name: String) -> JinjaValue {
        for scope in scopes.reversed() { if let v = scope[name] { return v } }
        return .undefined
    }

    // MARK: statements

    mutating func render(_ nodes: [JinjaNode], into out: inout String) throws(ChatTemplateError) {
        for node in nodes {
            switch node {
            case .text(let t):
                out += t
            case .output(let e):
                out += try evaluate(e).rendered
            case .conditional(let branches, let elseBody):
                var taken = false
                for (condition, body) in branches where try evaluate(condition).isTruthy {
                    try render(body, into: &out)
                    taken = true
                    break
                }
                if !taken { try render(elseBody, into: &out) }
            case .set(let target, let attribute, let valueExpr, let offset):
                let value = try evaluate(valueExpr)
                if let attribute {
                    guard case .namespace(let handle) = lookup(target) else {
                        throw error("cannot set attribute '\(attribute)' of '\(target)', which is not a namespace",
                                    at: offset)
                    }
                    namespaces[handle][.string(attribute)] = value
                } else {
                    scopes[scopes.count - 1][target] = value
                }
            case .forLoop(let targets, let iterableExpr, let filter, let body, let elseBody, let offset):
                try renderLoop(targets: targets, iterable: iterableExpr, filter: filter, body: body,
                               elseBody: elseBody, offset: offset, into: &out)
            }
        }
    }

    private mutating func renderLoop(targets: [String], iterable: JinjaExpr, filter: JinjaExpr?, body: [JinjaNode],
                                     elseBody: [JinjaNode], offset: Int, into out: inout String) throws(ChatTemplateError) {
        var items: [JinjaValue]
        switch try evaluate(iterable) {
        case .list(let l): items = l
        case .dict(let d): items = d.entries.map(\.key)
        case .string(let s): items = s.map { .string(String($0)) }
        case .undefined: items = []
        case let other: throw error("cannot loop over a value of type \(other.typeName)", at: offset)
        }
        if let filter {
            var kept: [JinjaValue] = []
            for item in items {
                scopes.append(try bind(targets, to: item, at: offset))
                defer { scopes.removeLast() }
                if try evaluate(filter).isTruthy { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty {
            try render(elseBody, into: &out)
            return
        }
        for (i, item) in items.enumerated() {
            var scope = try bind(targets, to: item, at: offset)
            scope["loop"] = .dict(JinjaDict([
                ("index", .int(i + 1)), ("index0", .int(i)),
                ("revindex", .int(items.count - i)), ("revindex0", .int(items.count - i - 1)),
                ("first", .bool(i == 0)), ("last", .bool(i == items.count - 1)),
                ("length", .int(items.count)),
                ("previtem", i > 0 ? items[i - 1] : .undefined),
                ("nextitem", i + 1 < items.count ? items[i + 1] : .undefined),
            ]))
            scopes.append(scope)
            defer { scopes.removeLast() }
            try render(body, into: &out)
        }
    }

    /// Binds loop targets: one name takes the item; several unpack a list item.
    private func bind(_ targets: [String], to item: JinjaValue, at offset: Int) throws(ChatTemplateError)
        -> [String: JinjaValue] {
        if targets.count == 1 { return [targets[0]: item] }
        guard case .list(let parts) = item, parts.count == targets.count else {
            throw error("cannot unpack \(item.typeName) into \(targets.count) loop variables", at: offset)
        }
        var scope: [String: JinjaValue] = [:]
        for (name, value) in zip(targets, parts) { scope[name] = value }
        return scope
    }

    // MARK: expressions

    mutating func evaluate(_ expr: JinjaExpr) throws(ChatTemplateError) -> JinjaValue {
        switch expr {
        case .literal(let v):
            return v
        case .name(let n, _):
            return lookup(n)
        case .list(let items):
            var out: [JinjaValue] = []
            for item in items { out.append(try evaluate(item)) }
            return .list(out)
        case .dict(let pairs):
            var d = JinjaDict()
            for (k, v) in pairs { d[try evaluate(k)] = try evaluate(v) }
            return .dict(d)
        case .attribute(let base, let name, let offset):
            return try attribute(of: try evaluate(base), name, at: offset)
        case .index(let base, let indexExpr, let offset):
            return try subscriptValue(try evaluate(base), try evaluate(indexExpr), at: offset)
        case .slice(let base, let start, let stop, let step, let offset):
            return try slice(try evaluate(base), start: try start.map { e throws(ChatTemplateError) in try evaluate(e) },
                             stop: try stop.map { e throws(ChatTemplateError) in try evaluate(e) },
                             step: try step.map { e throws(ChatTemplateError) in try evaluate(e) }, at: offset)
        case .call(let callee, let argExprs, let keywordExprs, let offset):
            var args: [JinjaValue] = []
            for a in argExprs { args.append(try evaluate(a)) }
            var keywords: [String: JinjaValue] = [:]
            for (k, v) in keywordExprs { keywords[k] = try evaluate(v) }
            if case .attribute(let receiverExpr, let method, _) = callee {
                return try callMethod(method, on: try evaluate(receiverExpr), args: args, at: offset)
            }
            guard case .name(let function, _) = callee else {
                throw unsupported("calling a computed value", at: offset)
            }
            return try callFunction(function, args: args, keywords: keywords, at: offset)
        case .filter(let base, let name, let argExprs, let offset):
            let value = try evaluate(base)
            var args: [JinjaValue] = []
            for a in argExprs { args.append(try evaluate(a)) }
            return try applyFilter(name, to: value, args: args, at: offset)
        case .test(let base, let name, let argExprs, let negated, let offset):
            let value = try evaluate(base)
            var args: [JinjaValue] = []
            for a in argExprs { args.append(try evaluate(a)) }
            return .bool(try applyTest(name, to: value, args: args, at: offset) != negated)
        case .unary(let op, let operand, let offset):
            let v = try evaluate(operand)
            if op == "not" { return .bool(!v.isTruthy) }
            switch v {
            case .int(let i): return .int(-i)
            case .double(let d): return .double(-d)
            default: throw error("cannot negate a value of type \(v.typeName)", at: offset)
            }
        case .binary(let op, let lhs, let rhs, let offset):
            if op == "and" {
                let l = try evaluate(lhs)
                return l.isTruthy ? try evaluate(rhs) : l
            }
            if op == "or" {
                let l = try evaluate(lhs)
                return l.isTruthy ? l : try evaluate(rhs)
            }
            return try binary(op, try evaluate(lhs), try evaluate(rhs), at: offset)
        case .conditional(let value, let condition, let otherwise):
            if try evaluate(condition).isTruthy { return try evaluate(value) }
            return try otherwise.map { e throws(ChatTemplateError) in try evaluate(e) } ?? .undefined
        }
    }
}
