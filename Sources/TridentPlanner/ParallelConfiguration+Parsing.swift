import Foundation

extension ParallelConfiguration {
    /// Parses `TPxPPxDP`, e.g. `"4x2x1"`.
    public static func parse(_ text: String) throws(PlannerError) -> ParallelConfiguration {
        let parts = text.lowercased().split(separator: "x").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 3, let tp = parts[0], let pp = parts[1], let dp = parts[2], tp >= 1, pp >= 1, dp >= 1 else {
            throw .malformedConfiguration(text)
        }
        return ParallelConfiguration(tensor: tp, pipeline: pp, data: dp)
    }
}
