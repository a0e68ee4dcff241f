import Foundation

/// One-line JSON output through the system encoders, never by hand. JSON has no infinity or
/// NaN: a non-finite number is written as `null`.
enum JSONLine {
    /// `object` (dictionaries, arrays, strings, numbers, booleans) as compact JSON with sorted keys.
    static func render(_ object: [String: Any]) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: sanitized(object),
                                              options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// `value` with every non-finite `Double` or `Float` replaced by `NSNull`.
    static func sanitized(_ value: Any) -> Any {
        switch value {
        case let number as Double: return number.isFinite ? number : NSNull()
        case let number as Float: return number.isFinite ? Double(number) : NSNull()
        case let dictionary as [String: Any]: return dictionary.mapValues(sanitized)
        case let array as [Any]: return array.map(sanitized)
        default: return value
        }
    }

    /// `value` encoded with sorted keys; non-finite numbers must have been made nil first
    /// (`finite`), so the encoder never meets one.
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// `value`, or nil (written as `null`) when it is infinite or NaN.
    static func finite<T: BinaryFloatingPoint>(_ value: T) -> Double? {
        value.isFinite ? Double(value) : nil
    }
}
