extension JinjaEvaluator {
    /// Global functions: `range`, `namespace`, `dict`, `raise_exception`.
    mutating func callFunction(_ name: String, args: [JinjaValue], keywords: [String: JinjaValue], at offset: Int)
        throws(ChatTemplateError) -> JinjaValue {
        switch name {
        case "raise_exception":
            throw ChatTemplateError.raised(args.first?.rendered ?? "")
        case "range":
            var ints: [Int] = []
            for a in args {
                guard case .int(let i) = a else { throw error("'range' needs integer arguments", at: offset) }
                ints.append(i)
            }
            let (start, stop, step): (Int, Int, Int)
            switch ints.count {
            case 1: (start, stop, step) = (0, ints[0], 1)
            case 2: (start, stop, step) = (ints[0], ints[1], 1)
            case 3: (start, stop, step) = (ints[0], ints[1], ints[2])
            default: throw error("'range' takes 1 to 3 arguments", at: offset)
            }
            guard step != 0 else { throw error("'range' step cannot be zero", at: offset) }
            return .list(Swift.stride(from: start, to: stop, by: step).map { .int($0) })
        case "namespace", "dict":
            var d = JinjaDict()
            if case .dict(let initial)? = args.first { d = initial }
            for key in keywords.keys.sorted() { d[.string(key)] = keywords[key] }
            if name == "dict" { return .dict(d) }
            namespaces.append(d)
            return .namespace(namespaces.count - 1)
        default:
            if case .undefined = lookup(name) { throw unsupported("function '\(name)'", at: offset) }
            throw unsupported("calling '\(name)'", at: offset)
        }
    }

    /// Python methods on strings (`strip`, `lstrip`, `rstrip`, `startswith`, `endswith`, `split`,
    /// `upper`, `lower`, `replace`, `title`, `capitalize`) and dicts (`items`, `keys`, `values`, `get`).
    func callMethod(_ name: String, on receiver: JinjaValue, args: [JinjaValue], at offset: Int)
        throws(ChatTemplateError) -> JinjaValue {
        switch receiver {
        case .string(let s):
            switch name {
            case "strip": return .string(Self.strip(s, chars: args.first))
            case "lstrip": return .string(Self.strip(s, chars: args.first, leading: true, trailing: false))
            case "rstrip": return .string(Self.strip(s, chars: args.first, leading: false, trailing: true))
            case "upper": return .string(s.uppercased())
            case "lower": return .string(s.lowercased())
            case "title": return .string(Self.title(s))
            case "capitalize": return .string(Self.capitalize(s))
            case "startswith", "endswith":
                let candidates: [JinjaValue]
                if case .list(let l)? = args.first { candidates = l } else { candidates = args.prefix(1).map { $0 } }
                guard !candidates.isEmpty else { throw error("'\(name)' needs an argument", at: offset) }
                return .bool(candidates.contains { c in
                    let p = c.rendered
                    return name == "startswith" ? s.utf8.starts(with: p.utf8) : s.utf8.reversed().starts(with: p.utf8.reversed())
                })
            case "replace":
                guard args.count >= 2 else { throw error("'replace' needs two arguments", at: offset) }
                return .string(s.replacingAll(args[0].rendered, with: args[1].rendered))
            case "split":
                if let sep = args.first, sep != .none {
                    let parts = s.components(separatedByString: sep.rendered)
                    return .list(parts.map { .string($0) })
                }
                return .list(s.split(whereSeparator: { $0.isWhitespace }).map { .string(String($0)) })
            default: break
            }
        case .dict(let d):
            switch name {
            case "items": return .list(d.entries.map { .list([$0.key, $0.value]) })
            case "keys": return .list(d.entries.map(\.key))
            case "values": return .list(d.entries.map(\.value))
            case "get": return args.first.flatMap { d[$0] } ?? (args.count > 1 ? args[1] : .none)
            default: break
            }
        case .undefined:
            throw error("method '\(name)' called on an undefined value", at: offset)
        default: break
        }
        throw unsupported("method '\(name)' on a \(receiver.typeName)", at: offset)
    }
}
