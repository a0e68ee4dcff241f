extension JinjaEvaluator {
    /// `value | name(args)`. Supported: trim, length, count, upper, lower, capitalize, title,
    /// default (d), first, last, join, string, int, float, list, reverse, replace, abs, items,
    /// tojson, safe.
    func applyFilter(_ name: String, to value: JinjaValue, args: [JinjaValue], at offset: Int)
        throws(ChatTemplateError) -> JinjaValue {
        func string() throws(ChatTemplateError) -> String {
            if case .undefined = value { return "" }
            return value.rendered
        }
        switch name {
        case "trim":
            return .string(Self.strip(try string(), chars: args.first))
        case "upper": return .string(try string().uppercased())
        case "lower": return .string(try string().lowercased())
        case "capitalize": return .string(Self.capitalize(try string()))
        case "title": return .string(Self.title(try string()))
        case "safe", "string": return .string(try string())
        case "length", "count":
            switch value {
            case .string(let s): return .int(s.count)
            case .list(let l): return .int(l.count)
            case .dict(let d): return .int(d.count)
            case .undefined: return .int(0)
            default: throw error("'\(name)' of a value of type \(value.typeName)", at: offset)
            }
        case "default", "d":
            let useDefault: Bool
            if case .undefined = value { useDefault = true } else {
                useDefault = (args.count > 1 && args[1].isTruthy) && !value.isTruthy
            }
            return useDefault ? (args.first ?? .string("")) : value
        case "first", "last":
            let items = try sequence(value, for: name, at: offset)
            return (name == "first" ? items.first : items.last) ?? .undefined
        case "list": return .list(try sequence(value, for: name, at: offset))
        case "reverse":
            if case .string(let s) = value { return .string(String(s.reversed())) }
            return .list(try sequence(value, for: name, at: offset).reversed())
        case "join":
            let separator = args.first?.rendered ?? ""
            return .string(try sequence(value, for: name, at: offset).map(\.rendered).joined(separator: separator))
        case "replace":
            guard args.count >= 2 else { throw error("'replace' needs two arguments", at: offset) }
            return .string(try string().replacingAll(args[0].rendered, with: args[1].rendered))
        case "int":
            switch value {
            case .int: return value
            case .double(let d): return .int(Int(d))
            case .bool(let b): return .int(b ? 1 : 0)
            case .string(let s): return .int(Int(s.trimmingSpaces()) ?? 0)
            default: return .int(0)
            }
        case "float":
            if let n = Self.number(value) { return .double(n) }
            if case .string(let s) = value { return .double(Double(s.trimmingSpaces()) ?? 0) }
            return .double(0)
        case "abs":
            switch value {
            case .int(let i): return .int(abs(i))
            case .double(let d): return .double(abs(d))
            default: throw error("'abs' of a value of type \(value.typeName)", at: offset)
            }
        case "items":
            guard case .dict(let d) = value else { throw error("'items' of a \(value.typeName)", at: offset) }
            return .list(d.entries.map { .list([$0.key, $0.value]) })
        case "tojson":
            return .string(try json(value, at: offset))
        default:
            throw unsupported("filter '\(name)'", at: offset)
        }
    }

    /// The elements of a list, the keys of a dict, or the characters of a string.
    func sequence(_ value: JinjaValue, for what: String, at offset: Int) throws(ChatTemplateError) -> [JinjaValue] {
        switch value {
        case .list(let l): return l
        case .dict(let d): return d.entries.map(\.key)
        case .string(let s): return s.map { .string(String($0)) }
        default: throw error("'\(what)' needs a list, dict or string, found \(value.typeName)", at: offset)
        }
    }

    /// `value is [not] name(args)`.
    func applyTest(_ name: String, to value: JinjaValue, args: [JinjaValue], at offset: Int)
        throws(ChatTemplateError) -> Bool {
        switch name {
        case "defined": if case .undefined = value { return false }; return true
        case "undefined": if case .undefined = value { return true }; return false
        case "none": return value == .none
        case "true": return value == .bool(true)
        case "false": return value == .bool(false)
        case "boolean": if case .bool = value { return true }; return false
        case "string": if case .string = value { return true }; return false
        case "integer": if case .int = value { return true }; return false
        case "float": if case .double = value { return true }; return false
        case "number":
            switch value { case .int, .double: return true; default: return false }
        case "mapping": if case .dict = value { return true }; return false
        case "sequence", "iterable":
            switch value { case .list, .string, .dict: return true; default: return false }
        case "even", "odd":
            guard case .int(let i) = value else { throw error("'\(name)' test of a \(value.typeName)", at: offset) }
            return (i % 2 == 0) == (name == "even")
        case "eq", "equalto", "sameas":
            guard let other = args.first else { throw error("'\(name)' test needs an argument", at: offset) }
            return Self.equal(value, other)
        case "ne":
            guard let other = args.first else { throw error("'ne' test needs an argument", at: offset) }
            return !Self.equal(value, other)
        case "in":
            guard let container = args.first else { throw error("'in' test needs an argument", at: offset) }
            return try binary("in", value, container, at: offset).isTruthy
        case "lower", "upper":
            guard case .string(let s) = value else { return false }
            return name == "lower" ? s == s.lowercased() : s == s.uppercased()
        default:
            throw unsupported("test '\(name)'", at: offset)
        }
    }
}
