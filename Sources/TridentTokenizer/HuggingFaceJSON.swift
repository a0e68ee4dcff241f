import Foundation

/// A parsed JSON value, for walking Hugging Face `tokenizer.json` / `tokenizer_config.json`
/// whose shapes vary between library versions.
indirect enum HuggingFaceJSON: Decodable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([HuggingFaceJSON])
    case object([String: HuggingFaceJSON])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        // Most values are strings (merges, tokens) or numbers (ids): try those first.
        if let s = try? c.decode(String.self) { self = .string(s) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let a = try? c.decode([HuggingFaceJSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: HuggingFaceJSON].self)) }
    }

    /// Parses `data` (the contents of `file`, named in errors).
    /// - Throws: ``TokenizerError/invalidJSON(file:reason:)``.
    static func parse(_ data: Data, file: String) throws(TokenizerError) -> HuggingFaceJSON {
        do {
            return try JSONDecoder().decode(HuggingFaceJSON.self, from: data)
        } catch {
            throw TokenizerError.invalidJSON(file: file, reason: Self.reason(error))
        }
    }

    private static func reason(_ error: Error) -> String {
        switch error as? DecodingError {
        case .dataCorrupted(let context)?: return context.debugDescription
        default: return "\(error)"
        }
    }

    subscript(key: String) -> HuggingFaceJSON? {
        if case .object(let o) = self { return o[key] } else { return nil }
    }

    var string: String? { if case .string(let s) = self { return s } else { return nil } }
    var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    var array: [HuggingFaceJSON]? { if case .array(let a) = self { return a } else { return nil } }
    var object: [String: HuggingFaceJSON]? { if case .object(let o) = self { return o } else { return nil } }
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
        case .object(let o): text = o["type"]?.string.map { "an object of type '\($0)'" } ?? "an object"
        }
        return text.count > 80 ? String(text.prefix(77)) + "..." : text
    }
}
