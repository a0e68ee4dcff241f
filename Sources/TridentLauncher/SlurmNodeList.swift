/// Slurm's compressed host lists (`SLURM_JOB_NODELIST`), expanded in order:
///
/// ```
/// node[01-03,07],gpu5      -> node01 node02 node03 node07 gpu5
/// rack[1-2]-n[8-10]        -> rack1-n8 rack1-n9 rack1-n10 rack2-n8 rack2-n9 rack2-n10
/// ```
///
/// Items are separated by commas outside brackets; a bracket holds numbers and `lo-hi` ranges
/// separated by commas, zero-padded to the width of the lower bound as written (`[098-100]`:
/// 098 099 100). Several brackets in one item multiply, the last varying fastest.
public enum SlurmNodeList {
    /// The hosts of `text`, at most `limit` of them (the list is checked whole all the same).
    /// Throws `LaunchError.badEnvironment` naming `variable` when the list is malformed.
    public static func expand(_ text: String, variable: String = "SLURM_JOB_NODELIST",
                              limit: Int = 65_536) throws(LaunchError) -> [String] {
        var items: [[Piece]] = []
        for item in split(text) { items.append(try parse(item, text: text, variable: variable)) }
        guard !items.isEmpty else { throw .badEnvironment("\(variable) is empty") }
        var hosts: [String] = []
        for item in items where hosts.count < limit {
            hosts += expand(item, limit: limit - hosts.count)
        }
        return hosts
    }

    /// One item: literal text and bracket groups, in order.
    enum Piece: Equatable {
        case text(String)
        /// The numbers and ranges of one bracket.
        case numbers([NumberRange])
    }

    /// `lo...hi`, printed at least `width` digits wide.
    struct NumberRange: Equatable {
        var low: Int, high: Int, width: Int
        var count: Int { high - low + 1 }
        func text(_ index: Int) -> String {
            let digits = String(low + index)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
    }

    /// Splits at commas outside brackets.
    private static func split(_ text: String) -> [Substring] {
        var items: [Substring] = [], depth = 0, start = text.startIndex
        for index in text.indices {
            switch text[index] {
            case "[": depth += 1
            case "]": depth -= 1
            case "," where depth == 0:
                items.append(text[start..<index])
                start = text.index(after: index)
            default: break
            }
        }
        items.append(text[start...])
        return items.filter { !$0.isEmpty }
    }

    private static func parse(_ item: Substring, text: String, variable: String) throws(LaunchError) -> [Piece] {
        let bad = { (detail: String) in LaunchError.badEnvironment("\(variable)='\(text)': \(detail)") }
        var pieces: [Piece] = [], rest = item
        while !rest.isEmpty {
            if rest.first == "[" {
                guard let close = rest.firstIndex(of: "]") else { throw bad("'[' without ']'") }
                let inside = rest[rest.index(after: rest.startIndex)..<close]
                guard !inside.contains("[") else { throw bad("nested '['") }
                var ranges: [NumberRange] = []
                for part in inside.split(separator: ",", omittingEmptySubsequences: false) {
                    guard let range = range(part) else { throw bad("'\(part)' is not a number or lo-hi range") }
                    ranges.append(range)
                }
                pieces.append(.numbers(ranges))
                rest = rest[rest.index(after: close)...]
            } else {
                let literal = rest.prefix { $0 != "[" }
                guard literal.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-._".contains($0)) }) else {
                    throw bad("'\(literal)' is not a host name")
                }
                pieces.append(.text(String(literal)))
                rest = rest.dropFirst(literal.count)
            }
        }
        return pieces
    }

    /// `7`, `01-03`; nil when malformed (or absurdly wide).
    private static func range(_ part: Substring) -> NumberRange? {
        let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(bounds.count), bounds.allSatisfy({ !$0.isEmpty && $0.count <= 9 && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let low = Int(bounds[0]), let high = Int(bounds[bounds.count - 1]), low >= 0, low <= high else { return nil }
        return NumberRange(low: low, high: high, width: bounds[0].count)
    }

    /// The hosts of one item (the last bracket fastest), at most `limit`.
    private static func expand(_ pieces: [Piece], limit: Int) -> [String] {
        var hosts = [""]
        for piece in pieces {
            switch piece {
            case .text(let literal): hosts = hosts.map { $0 + literal }
            case .numbers(let ranges):
                var next: [String] = []
                outer: for host in hosts {
                    for range in ranges {
                        for index in 0..<range.count {
                            if next.count >= limit { break outer }
                            next.append(host + range.text(index))
                        }
                    }
                }
                hosts = next
            }
        }
        return Array(hosts.prefix(limit))
    }
}
