import Foundation

/// `--nnodes MIN:MAX` (torchrun's spelling): how many nodes an elastic job may run on. A single
/// number `N` means `N:N`, a job of fixed size.
public struct NodeCountRange: Sendable, Equatable, CustomStringConvertible {
    /// Fewest nodes the job runs on; below that it fails.
    public var minimum: Int
    /// Most nodes admitted; later ones wait for a free place.
    public var maximum: Int

    /// Largest accepted node count (a guard against absurd values).
    public static let limit = 4096

    /// - Precondition: `1 <= minimum <= maximum` (parse untrusted text with `init(parsing:)`).
    public init(minimum: Int, maximum: Int) {
        precondition(minimum >= 1 && minimum <= maximum, "node range \(minimum):\(maximum)")
        self.minimum = minimum
        self.maximum = maximum
    }

    /// Parses `N` or `MIN:MAX`; throws `.invalidConfiguration` naming `--nnodes` and the text.
    public init(parsing text: String) throws(LaunchError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        let numbers = parts.map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard (1...2).contains(parts.count), let low = numbers.first ?? nil, let high = numbers.last ?? nil else {
            throw .invalidConfiguration("--nnodes '\(text)' is not N or MIN:MAX (e.g. 2 or 1:4)")
        }
        guard low >= 1, high <= Self.limit, low <= high else {
            throw .invalidConfiguration("--nnodes '\(text)' needs 1 <= MIN <= MAX <= \(Self.limit)")
        }
        self.init(minimum: low, maximum: high)
    }

    /// Whether the job has a fixed size (`N:N`).
    public var isFixed: Bool { minimum == maximum }

    public func contains(_ count: Int) -> Bool { (minimum...maximum).contains(count) }

    public var description: String { isFixed ? "\(minimum)" : "\(minimum):\(maximum)" }
}
