/// Errors for configurations a user asked for by hand.
public enum PlannerError: Error, Equatable, CustomStringConvertible {
    /// `text` is not written as `TPxPPxDP` (e.g. `4x2x1`).
    case malformedConfiguration(String)
    /// The configuration cannot run this model on this cluster.
    case invalidConfiguration(ParallelConfiguration, reason: String)

    public var description: String {
        switch self {
        case let .malformedConfiguration(text):
            return "cannot parse configuration '\(text)': expected TPxPPxDP with positive integers, e.g. 4x2x1"
        case let .invalidConfiguration(configuration, reason):
            return "\(configuration) is not possible: \(reason)"
        }
    }
}
