/// Failures of training inputs (data, targets, configuration) that come from outside the
/// program: each says what was expected, what was found, and where.
public enum TrainingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The token stream is too short for one sequence of `sequenceLength + 1` tokens.
    case dataTooShort(tokens: Int, needed: Int)
    /// A configuration value outside its valid range, e.g. `("--warmup", "0 ... steps", "12")`.
    case invalidValue(name: String, expected: String, found: String)

    public var description: String {
        switch self {
        case .dataTooShort(let tokens, let needed):
            return "training data has \(tokens) tokens, but one sequence needs \(needed) (sequence length + 1)"
        case .invalidValue(let name, let expected, let found):
            return "\(name) must be \(expected), found \(found)"
        }
    }
}
