extension ExpressionParser {
    /// Literals, names, parenthesised expressions, list and dict displays.
    mutating func parsePrimary() throws(ChatTemplateError) -> JinjaExpr {
        guard let t = currentToken else { throw syntax("expected an expression, found the end of the tag") }
        advance()
        switch t.kind {
        case .string:
            var text = t.text
            while let next = currentToken, next.kind == .string { text += next.text; advance() }   // "a" "b"
            return .literal(.string(text))
        case .integer:
            guard let v = Int(t.text) else { throw syntax("integer literal '\(t.text)' is too large") }
            return .literal(.int(v))
        case .float:
            return .literal(.double(Double(t.text) ?? 0))
        case .name:
            switch t.text {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(t.text, offset: t.offset)
            }
        case .op:
            switch t.text {
            case "(":
                let inner = try parseExpression()
                if accept(",") {                       // tuple: treated as a list
                    var items = [inner]
                    while !accept(")") {
                        items.append(try parseExpression())
                        if !accept(",") { try expect(")"); break }
                    }
                    return .list(items)
                }
                try expect(")")
                return inner
            case "[":
                var items: [JinjaExpr] = []
                while !accept("]") {
                    items.append(try parseExpression())
                    if !accept(",") { try expect("]"); break }
                }
                return .list(items)
            case "{":
                var pairs: [(JinjaExpr, JinjaExpr)] = []
                while !accept("}") {
                    let key = try parseExpression()
                    try expect(":")
                    pairs.append((key, try parseExpression()))
                    if !accept(",") { try expect("}"); break }
                }
                return .dict(pairs)
            default:
                throw syntax("unexpected '\(t.text)'")
            }
        }
    }

    /// `.attr`, `[index]`, `[a:b:c]`, `(args)` after a primary.
    mutating func parsePostfix(_ base: JinjaExpr) throws(ChatTemplateError) -> JinjaExpr {
        var node = base
        while true {
            let at = currentOffset
            if accept(".") {
                node = .attribute(node, try expectName(), offset: at)
            } else if accept("[") {
                node = try parseSubscript(node, offset: at)
            } else if accept("(") {
                node = try parseCall(node, offset: at)
            } else {
                return node
            }
        }
    }

    /// `| filter(args)` and `is [not] test(args)`, left to right.
    mutating func parseFilters(_ base: JinjaExpr) throws(ChatTemplateError) -> JinjaExpr {
        var node = base
        while true {
            let at = currentOffset
            if accept("|") {
                let name = try expectName()
                var args: [JinjaExpr] = []
                if accept("(") {
                    if case .call(_, let a, let kw, _) = try parseCall(.name(name, offset: at), offset: at) {
                        if !kw.isEmpty { throw unsupported("keyword arguments to filter '\(name)'") }
                        args = a
                    }
                }
                node = .filter(node, name, args, offset: at)
            } else if acceptKeyword("is") {
                let negated = acceptKeyword("not")
                let name = try expectTestName()
                var args: [JinjaExpr] = []
                if accept("(") {
                    if case .call(_, let a, _, _) = try parseCall(.name(name, offset: at), offset: at) { args = a }
                }
                node = .test(node, name, args, negated: negated, offset: at)
            } else {
                return node
            }
        }
    }

    /// Test names include the keywords `none`, `true`, `false`.
    private mutating func expectTestName() throws(ChatTemplateError) -> String {
        let name = try expectName()
        return name.lowercased() == name ? name : name.lowercased()
    }

    private mutating func parseSubscript(_ base: JinjaExpr, offset at: Int) throws(ChatTemplateError) -> JinjaExpr {
        var parts: [JinjaExpr?] = [nil]
        var isSlice = false
        while !accept("]") {
            if accept(":") {
                isSlice = true
                parts.append(nil)
                continue
            }
            guard parts[parts.count - 1] == nil else { try expect("]"); break }
            parts[parts.count - 1] = try parseExpression()
        }
        if !isSlice {
            guard parts.count == 1, let index = parts[0] else { throw syntax("empty subscript '[]'") }
            return .index(base, index, offset: at)
        }
        guard parts.count <= 3 else { throw syntax("a slice takes at most start:stop:step") }
        while parts.count < 3 { parts.append(nil) }
        return .slice(base, parts[0], parts[1], parts[2], offset: at)
    }

    /// Arguments after `(`: positional, then `key=value`.
    private mutating func parseCall(_ callee: JinjaExpr, offset at: Int) throws(ChatTemplateError) -> JinjaExpr {
        var args: [JinjaExpr] = []
        var keywords: [(String, JinjaExpr)] = []
        while !accept(")") {
            if let t = currentToken, t.kind == .name, isOp("=", ahead: 1) {
                advance()
                advance()
                keywords.append((t.text, try parseExpression()))
            } else {
                if !keywords.isEmpty { throw syntax("positional argument after keyword argument") }
                args.append(try parseExpression())
            }
            if !accept(",") { try expect(")"); break }
        }
        return .call(callee, args, keywords, offset: at)
    }
}
