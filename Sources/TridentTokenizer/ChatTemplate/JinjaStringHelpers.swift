extension JinjaEvaluator {
    /// Python `str.strip([chars])` (whitespace when `chars` is nil or none).
    static func strip(_ s: String, chars: JinjaValue?, leading: Bool = true, trailing: Bool = true) -> String {
        let set: Set<Unicode.Scalar>?
        if case .string(let c)? = chars { set = Set(c.unicodeScalars) } else { set = nil }
        func stripped(_ u: Unicode.Scalar) -> Bool {
            if let set { return set.contains(u) }
            return u.properties.isWhitespace || (0x1C...0x1F).contains(u.value)
        }
        let scalars = Array(s.unicodeScalars)
        var lo = 0, hi = scalars.count
        if leading { while lo < hi && stripped(scalars[lo]) { lo += 1 } }
        if trailing { while hi > lo && stripped(scalars[hi - 1]) { hi -= 1 } }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[lo..<hi])
        return String(view)
    }

    /// Python `str.capitalize()`.
    static func capitalize(_ s: String) -> String {
        guard let first = s.first else { return s }
        return String(first).uppercased() + s.dropFirst().lowercased()
    }

    /// Python `str.title()`: upper-case the first letter of every run of letters.
    static func title(_ s: String) -> String {
        var out = ""
        var previousIsLetter = false
        for ch in s {
            out += previousIsLetter ? ch.lowercased() : ch.uppercased()
            previousIsLetter = ch.isLetter
        }
        return out
    }

    /// JSON as Hugging Face's `tojson` writes it (`json.dumps(ensure_ascii=False)`).
    func json(_ value: JinjaValue, at offset: Int) throws(ChatTemplateError) -> String {
        switch value {
        case .none: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return JinjaValue.pythonFloat(d)
        case .string(let s):
            var out = "\""
            for u in s.unicodeScalars {
                switch u {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case "\u{08}": out += "\\b"
                case "\u{0C}": out += "\\f"
                default:
                    if u.value < 0x20 {
                        let hex = String(u.value, radix: 16)
                        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                    } else {
                        out.unicodeScalars.append(u)
                    }
                }
            }
            return out + "\""
        case .list(let l):
            var parts: [String] = []
            for item in l { parts.append(try json(item, at: offset)) }
            return "[" + parts.joined(separator: ", ") + "]"
        case .dict(let d):
            var parts: [String] = []
            for (k, v) in d.entries { parts.append(try json(.string(k.rendered), at: offset) + ": " + json(v, at: offset)) }
            return "{" + parts.joined(separator: ", ") + "}"
        case .namespace(let handle):
            return try json(.dict(namespaces[handle]), at: offset)
        case .undefined:
            throw error("cannot convert an undefined value to JSON", at: offset)
        }
    }
}

extension String {
    /// Every occurrence of `target` replaced (byte-exact, like Python's `str.replace`).
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        return components(separatedByString: target).joined(separator: replacement)
    }

    /// Split at every occurrence of `separator` (byte-exact, like Python's `str.split(sep)`).
    func components(separatedByString separator: String) -> [String] {
        let hay = Array(utf8), needle = Array(separator.utf8)
        guard !needle.isEmpty else { return [self] }
        var parts: [String] = []
        var start = 0, i = 0
        while i + needle.count <= hay.count {
            if hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle {
                parts.append(String(decoding: hay[start..<i], as: UTF8.self))
                i += needle.count
                start = i
            } else {
                i += 1
            }
        }
        parts.append(String(decoding: hay[start...], as: UTF8.self))
        return parts
    }

    func trimmingSpaces() -> String { JinjaEvaluator.strip(self, chars: nil) }
}
