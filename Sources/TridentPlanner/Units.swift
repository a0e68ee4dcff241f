import Foundation

/// Errors raised while parsing human-written quantities such as `80GB` or `300GB/s`.
public enum UnitParseError: Error, Equatable, CustomStringConvertible {
    /// The text did not have the expected shape; `expected` lists accepted spellings.
    case malformed(text: String, expected: String)
    /// The number parsed but is negative, zero where that is meaningless, or not finite.
    case outOfRange(text: String, reason: String)

    public var description: String {
        switch self {
        case let .malformed(text, expected):
            return "cannot parse '\(text)': expected \(expected)"
        case let .outOfRange(text, reason):
            return "'\(text)' is out of range: \(reason)"
        }
    }
}

/// Parsers for sizes, rates and durations written the way people write them.
///
/// Decimal prefixes are powers of 1000 (`GB` = 1e9 bytes), binary prefixes powers of 1024
/// (`GiB` = 2^30 bytes). An upper-case `B` means bytes, a lower-case `b` means bits, so
/// `25Gb/s` is 3.125e9 bytes per second. Prefix letters are case-sensitive except `k`/`K`.
public enum Units {
    static let sizeHelp = "a number with an optional unit: B, kB, MB, GB, TB, KiB, MiB, GiB, TiB (bytes) "
        + "or b, kb, Mb, Gb, Tb, Kib, Mib, Gib, Tib (bits), e.g. 80GB or 80GiB"
    static let rateHelp = "a size per second, e.g. 300GB/s, 25Gb/s, 12.5GiB/s"
    static let durationHelp = "a number with a unit ns, us, ms or s, e.g. 5us"

    /// Parses a size into bytes, e.g. `80GB` -> 8e10, `80GiB` -> 85899345920, `8Gb` -> 1e9.
    /// A bare number is a count of bytes.
    public static func parseBytes(_ text: String) throws(UnitParseError) -> Double {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let (number, suffix) = try splitNumber(trimmed, original: text, expected: sizeHelp)
        guard let factor = sizeFactor(suffix) else {
            throw .malformed(text: text, expected: sizeHelp)
        }
        let value = number * factor
        guard value.isFinite, value >= 0 else {
            throw .outOfRange(text: text, reason: "a size must be a finite, non-negative number")
        }
        return value
    }

    /// Parses a rate into bytes per second, e.g. `300GB/s` -> 3e11, `25Gb/s` -> 3.125e9.
    /// Also accepts `Gbps` for gigabits per second.
    public static func parseBytesPerSecond(_ text: String) throws(UnitParseError) -> Double {
        var trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasSuffix("/s") {
            trimmed.removeLast(2)
        } else if trimmed.hasSuffix("bps") {
            trimmed.removeLast(3)
            trimmed += "b"
        } else {
            throw .malformed(text: text, expected: rateHelp)
        }
        let bytes: Double
        do { bytes = try parseBytes(trimmed) } catch { throw .malformed(text: text, expected: rateHelp) }
        guard bytes > 0 else { throw .outOfRange(text: text, reason: "a bandwidth must be positive") }
        return bytes
    }

    /// Parses a duration into seconds, e.g. `5us` -> 5e-6, `1.5ms` -> 1.5e-3.
    public static func parseSeconds(_ text: String) throws(UnitParseError) -> Double {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let (number, suffix) = try splitNumber(trimmed, original: text, expected: durationHelp)
        let divisors: [String: Double] = ["ns": 1e9, "us": 1e6, "µs": 1e6, "ms": 1e3, "s": 1]
        guard let divisor = divisors[suffix] else { throw .malformed(text: text, expected: durationHelp) }
        let value = number / divisor
        guard value.isFinite, value >= 0 else {
            throw .outOfRange(text: text, reason: "a duration must be a finite, non-negative number")
        }
        return value
    }

    /// Splits `"12.5GiB"` into `(12.5, "GiB")`.
    private static func splitNumber(_ text: String, original: String,
                                    expected: String) throws(UnitParseError) -> (Double, String) {
        let numberChars = Set("0123456789.eE+-")
        var end = text.startIndex
        while end < text.endIndex, numberChars.contains(text[end]) {
            // Stop at an 'e'/'E' not followed by a digit or sign (it would start a unit).
            if text[end] == "e" || text[end] == "E" {
                let next = text.index(after: end)
                guard next < text.endIndex, "0123456789+-".contains(text[next]) else { break }
            }
            end = text.index(after: end)
        }
        guard let number = Double(text[..<end]) else { throw .malformed(text: original, expected: expected) }
        let suffix = text[end...].trimmingCharacters(in: .whitespaces)
        return (number, suffix)
    }

    /// Multiplier from a size unit to bytes, or nil if the unit is not recognised.
    private static func sizeFactor(_ unit: String) -> Double? {
        if unit.isEmpty { return 1 }
        guard let last = unit.last, last == "B" || last == "b" else { return nil }
        let perUnit: Double = last == "B" ? 1 : 0.125
        var prefix = String(unit.dropLast())
        var base = 1000.0
        if prefix.hasSuffix("i") {
            base = 1024
            prefix.removeLast()
            if prefix.isEmpty { return nil }
        }
        let exponents: [String: Double] = ["": 0, "k": 1, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5]
        guard let exponent = exponents[prefix] else { return nil }
        return pow(base, exponent) * perUnit
    }
}
