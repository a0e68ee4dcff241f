/// Why a chat template could not be parsed or rendered.
///
/// Positions are 1-based line and column in the template source.
public enum ChatTemplateError: Error, Equatable, CustomStringConvertible {
    /// The template is not well-formed (e.g. an unclosed `{% for %}`).
    case syntax(String, line: Int, column: Int)
    /// The template uses a Jinja construct this renderer does not implement.
    case unsupported(String, line: Int, column: Int)
    /// Evaluation failed (e.g. adding a string to a number, calling an unknown filter).
    case runtime(String, line: Int, column: Int)
    /// The template called `raise_exception(message)`.
    case raised(String)

    public var description: String {
        switch self {
        case .syntax(let m, let l, let c): return "chat template syntax error at \(l):\(c): \(m)"
        case .unsupported(let m, let l, let c): return "chat template uses unsupported \(m) at \(l):\(c)"
        case .runtime(let m, let l, let c): return "chat template error at \(l):\(c): \(m)"
        case .raised(let m): return "chat template raised: \(m)"
        }
    }
}

/// Maps byte offsets of a template source to line and column.
struct SourceLocator: Sendable {
    /// Byte offset of the start of each line.
    private let lineStarts: [Int]

    init(_ source: [UInt8]) {
        var starts = [0]
        for (i, b) in source.enumerated() where b == 0x0A { starts.append(i + 1) }
        lineStarts = starts
    }

    /// 1-based (line, column) of `offset`.
    func position(_ offset: Int) -> (line: Int, column: Int) {
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        return (lo + 1, offset - lineStarts[lo] + 1)
    }
}
