extension JinjaEvaluator {
    /// `base.name`: a dict key (Jinja falls back from attributes to items) or a namespace attribute.
    func attribute(of base: JinjaValue, _ name: String, at offset: Int) throws(ChatTemplateError) -> JinjaValue {
        switch base {
        case .dict(let d): return d[.string(name)] ?? .undefined
        case .namespace(let handle): return namespaces[handle][.string(name)] ?? .undefined
        case .undefined: throw error("'\(name)' of an undefined value", at: offset)
        default: return .undefined
        }
    }

    /// `base[index]` for lists and strings (negative indices count from the end) and dicts.
    func subscriptValue(_ base: JinjaValue, _ index: JinjaValue, at offset: Int) throws(ChatTemplateError) -> JinjaValue {
        switch (base, index) {
        case (.list(let l), .int(let i)):
            let k = i < 0 ? l.count + i : i
            return l.indices.contains(k) ? l[k] : .undefined
        case (.string(let s), .int(let i)):
            let chars = Array(s)
            let k = i < 0 ? chars.count + i : i
            return chars.indices.contains(k) ? .string(String(chars[k])) : .undefined
        case (.dict(let d), _):
            return d[index] ?? .undefined
        case (.namespace, .string(let name)):
            return try attribute(of: base, name, at: offset)
        case (.undefined, _):
            throw error("subscript of an undefined value", at: offset)
        default:
            return .undefined
        }
    }

    /// Python slicing `base[start:stop:step]` of lists and strings.
    func slice(_ base: JinjaValue, start: JinjaValue?, stop: JinjaValue?, step: JinjaValue?, at offset: Int)
        throws(ChatTemplateError) -> JinjaValue {
        func int(_ v: JinjaValue?) throws(ChatTemplateError) -> Int? {
            switch v {
            case nil, .none?: return nil
            case .int(let i)?: return i
            default: throw error("slice indices must be integers", at: offset)
            }
        }
        let step = try int(step) ?? 1
        guard step != 0 else { throw error("slice step cannot be zero", at: offset) }
        func indices(_ count: Int) throws(ChatTemplateError) -> [Int] {
            func clamp(_ v: Int?, _ dflt: Int, _ lo: Int, _ hi: Int) -> Int {
                guard var v else { return dflt }
                if v < 0 { v += count }
                return min(max(v, lo), hi)
            }
            var out: [Int] = []
            if step > 0 {
                var i = clamp(try int(start), 0, 0, count)
                let end = clamp(try int(stop), count, 0, count)
                while i < end { out.append(i); i += step }
            } else {
                var i = clamp(try int(start), count - 1, -1, count - 1)
                let end = clamp(try int(stop), -1, -1, count - 1)
                while i > end { out.append(i); i += step }
            }
            return out
        }
        switch base {
        case .list(let l): return .list(try indices(l.count).map { l[$0] })
        case .string(let s):
            let chars = Array(s)
            return .string(String(try indices(chars.count).map { chars[$0] }))
        default: throw error("cannot slice a value of type \(base.typeName)", at: offset)
        }
    }

    /// Python equality: numbers compare by value across int/float/bool.
    static func equal(_ a: JinjaValue, _ b: JinjaValue) -> Bool {
        if let x = number(a), let y = number(b) { return x == y }
        switch (a, b) {
        case (.list(let l), .list(let r)): return l.count == r.count && zip(l, r).allSatisfy { equal($0, $1) }
        default: return a == b
        }
    }

    static func number(_ v: JinjaValue) -> Double? {
        switch v {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// Arithmetic, comparison, concatenation and membership.
    func binary(_ op: String, _ l: JinjaValue, _ r: JinjaValue, at offset: Int) throws(ChatTemplateError) -> JinjaValue {
        switch op {
        case "==": return .bool(Self.equal(l, r))
        case "!=": return .bool(!Self.equal(l, r))
        case "~": return .string(l.rendered + r.rendered)
        case "in", "not in":
            let found: Bool
            switch r {
            case .string(let s):
                guard case .string(let needle) = l else { throw error("'in <string>' needs a string on the left", at: offset) }
                found = needle.isEmpty || s.contains(needle)
            case .list(let items): found = items.contains { Self.equal($0, l) }
            case .dict(let d): found = d[l] != nil
            case .undefined: throw error("'in' with an undefined value on the right", at: offset)
            default: throw error("'in' needs a string, list or dict on the right, found \(r.typeName)", at: offset)
            }
            return .bool(found == (op == "in"))
        case "<", ">", "<=", ">=":
            let ordering: Int
            if let x = Self.number(l), let y = Self.number(r) {
                ordering = x < y ? -1 : (x > y ? 1 : 0)
            } else if case .string(let x) = l, case .string(let y) = r {
                ordering = x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars) ? -1 : (x == y ? 0 : 1)
            } else {
                throw error("cannot compare \(l.typeName) with \(r.typeName) using '\(op)'", at: offset)
            }
            switch op {
            case "<": return .bool(ordering < 0)
            case ">": return .bool(ordering > 0)
            case "<=": return .bool(ordering <= 0)
            default: return .bool(ordering >= 0)
            }
        case "+":
            switch (l, r) {
            case (.string(let a), .string(let b)): return .string(a + b)
            case (.list(let a), .list(let b)): return .list(a + b)
            default: break
            }
            return try arithmetic(op, l, r, at: offset)
        default:
            if op == "*", case .string(let s) = l, case .int(let n) = r { return .string(String(repeating: s, count: max(n, 0))) }
            return try arithmetic(op, l, r, at: offset)
        }
    }

    private func arithmetic(_ op: String, _ l: JinjaValue, _ r: JinjaValue, at offset: Int) throws(ChatTemplateError) -> JinjaValue {
        guard let x = Self.number(l), let y = Self.number(r) else {
            throw error("unsupported operand types for \(op): \(l.typeName) and \(r.typeName)", at: offset)
        }
        let bothInt = { if case .double = l { return false }; if case .double = r { return false }; return true }()
        switch op {
        case "+", "-", "*":
            let v = op == "+" ? x + y : (op == "-" ? x - y : x * y)
            return bothInt ? .int(Int(v)) : .double(v)
        case "/":
            guard y != 0 else { throw error("division by zero", at: offset) }
            return .double(x / y)
        case "//", "%":
            guard y != 0 else { throw error("division by zero", at: offset) }
            let q = (x / y).rounded(.down)
            let v = op == "//" ? q : x - q * y
            return bothInt ? .int(Int(v)) : .double(v)
        case "**":
            guard y >= 0, y == y.rounded(), y < 64 else {
                throw unsupported("'**' with a negative or fractional exponent", at: offset)
            }
            var p = 1.0
            for _ in 0..<Int(y) { p *= x }
            return bothInt ? .int(Int(p)) : .double(p)
        default:
            throw unsupported("operator '\(op)'", at: offset)
        }
    }
}

