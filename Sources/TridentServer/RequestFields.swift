import Foundation

/// Typed access to the fields of a JSON request object, throwing OpenAI-style 400 errors that
/// name the field (`param`) and say what was expected and found.
struct RequestFields {
    let object: [String: JSONValue]

    /// Parses `body` as a JSON object.
    /// - Throws: `APIError` (400) for invalid UTF-8, malformed JSON or a value that is not an object.
    init(body: [UInt8]) throws(APIError) {
        guard String(validating: body, as: UTF8.self) != nil else {
            throw .invalid("the request body is not valid UTF-8", code: "invalid_utf8")
        }
        let value: JSONValue
        do {
            value = try JSONDecoderFactory.decoder.decode(JSONValue.self, from: Data(body))
        } catch {
            throw .invalid("the request body is not valid JSON", code: "invalid_json")
        }
        guard case .object(let object) = value else {
            throw .invalid("the request body must be a JSON object, found \(value.typeName)", code: "invalid_json")
        }
        self.object = object
    }

    /// The field, or nil when absent or null.
    subscript(_ name: String) -> JSONValue? {
        if case .null? = object[name] { return nil }
        return object[name]
    }

    func string(_ name: String) throws(APIError) -> String? {
        guard let value = self[name] else { return nil }
        guard case .string(let s) = value else { throw .wrongType(name, expected: "a string", found: value) }
        return s
    }

    func bool(_ name: String) throws(APIError) -> Bool? {
        guard let value = self[name] else { return nil }
        guard case .bool(let b) = value else { throw .wrongType(name, expected: "a boolean", found: value) }
        return b
    }

    /// An integer field within `range`.
    func integer(_ name: String, in range: ClosedRange<Int64>) throws(APIError) -> Int? {
        guard let value = self[name] else { return nil }
        guard case .integer(let i) = value else { throw .wrongType(name, expected: "an integer", found: value) }
        guard range.contains(i) else {
            throw .invalid("'\(name)' must be in \(range.lowerBound)...\(range.upperBound), found \(i)", param: name,
                           code: "invalid_value")
        }
        return Int(i)
    }

    /// A finite number field that satisfies `valid` (described by `expected`).
    func number(_ name: String, _ expected: String, _ valid: (Double) -> Bool) throws(APIError) -> Double? {
        guard let value = self[name] else { return nil }
        let d: Double
        switch value {
        case .integer(let i): d = Double(i)
        case .number(let n): d = n
        default: throw .wrongType(name, expected: "a number", found: value)
        }
        guard d.isFinite, valid(d) else {
            throw .invalid("'\(name)' must be \(expected), found \(d)", param: name, code: "invalid_value")
        }
        return d
    }

    /// `stop`: a string or a list of up to 16 strings.
    func stopStrings() throws(APIError) -> [String] {
        guard let value = self["stop"] else { return [] }
        switch value {
        case .string(let s): return [s]
        case .array(let items):
            guard items.count <= 16 else { throw .invalid("'stop' holds at most 16 strings", param: "stop") }
            var out: [String] = []
            for item in items {
                guard case .string(let s) = item else {
                    throw .wrongType("stop", expected: "a string or a list of strings", found: item)
                }
                out.append(s)
            }
            return out
        default: throw .wrongType("stop", expected: "a string or a list of strings", found: value)
        }
    }
}

/// One shared decoder configuration for request bodies.
enum JSONDecoderFactory {
    static var decoder: JSONDecoder { JSONDecoder() }
}
