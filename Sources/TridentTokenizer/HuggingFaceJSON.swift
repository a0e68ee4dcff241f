import Foundation

/// A parsed JSON value, for walking Hugging Face `tokenizer.json` / `tokenizer_config.json`
/// whose shapes vary between library versions.
///
/// Objects keep their members in file order as a list, not a `[String: ...]` dictionary: Swift
/// strings compare by canonical equivalence, so a dictionary would merge vocabulary entries such
/// as U+1F77 and U+03AF (Llama 2 has six such pairs). Parsed by ``HuggingFaceJSONParser``.
indirect enum HuggingFaceJSON: Sendable, Equatable {
    struct Member: Sendable, Equatable {
        var key: String
        var value: HuggingFaceJSON
    }

    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([HuggingFaceJSON])
    case object([Member])

    /// Parses `data` (the contents of `file`, named in errors).
    /// - Throws: ``TokenizerError/invalidJSON(file:reason:)`` with the byte offset of the problem.
    static func parse(_ data: Data, file: String) throws(TokenizerError) -> HuggingFaceJSON {
        do {
            return try HuggingFaceJSONParser.parse([UInt8](data))
        } catch {
            throw TokenizerError.invalidJSON(file: file, reason: error.reason)
        }
    }

    /// The first member named `key` (compared byte for byte).
    subscript(key: String) -> HuggingFaceJSON? {
        guard case .object(let members) = self else { return nil }
        let utf8 = Array(key.utf8)
        return members.first { $0.key.utf8.elementsEqual(utf8) }?.value
    }

    var string: String? { if case .string(let s) = self { return s } else { return nil } }
    var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    var array: [HuggingFaceJSON]? { if case .array(let a) = self { return a } else { return nil } }
    var members: [Member]? { if case .object(let o) = self { return o } else { return nil } }
    var isNull: Bool { self == .null }

    /// An integral number that fits in `Int`.
    var int: Int? {
        guard case .number(let d) = self, d.rounded() == d, abs(d) < 9.0e15 else { return nil }
        return Int(d)
    }

    /// The `type` field of a component object (`"BPE"`, `"Sequence"`, ...).
    var type: String? { self["type"]?.string }

    /// A short description for error messages: the value, cut to 80 characters.
    var summary: String {
        let text: String
        switch self {
        case .null: text = "null"
        case .bool(let b): text = "\(b)"
        case .number(let d): text = "\(d)"
        case .string(let s): text = "'\(s)'"
        case .array(let a): text = "an array of \(a.count) values"
        case .object: text = type.map { "an object of type '\($0)'" } ?? "an object"
        }
        return text.count > 80 ? String(text.prefix(77)) + "..." : text
    }
}
