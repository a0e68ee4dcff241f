import Foundation

/// The first failure a rank's TCP mesh saw, written to a file the launcher names (like
/// torchrun's error files), so that the launcher's last line can name the rank that failed
/// and why rather than the rank that happened to exit first.
///
/// One line: `trident-failure-v1 <reporter> <blamed or -1> <detail>` (tab separated).
public struct FailureReport: Equatable, Sendable {
    /// World rank that wrote the report.
    public var reporter: Int
    /// World rank it holds responsible (nil: itself, e.g. its own deadline passed).
    public var blamed: Int?
    /// Why, e.g. `no heartbeat for 10.0 s`.
    public var detail: String

    public init(reporter: Int, blamed: Int?, detail: String) {
        self.reporter = reporter
        self.blamed = blamed
        self.detail = detail
    }

    static let marker = "trident-failure-v1"

    /// The report as one line.
    public var line: String {
        let flat = detail.split(whereSeparator: \.isNewline).joined(separator: " ").replacingOccurrences(of: "\t", with: " ")
        return [Self.marker, String(reporter), String(blamed ?? -1), flat].joined(separator: "\t")
    }

    /// Parses `line`; nil when it is not a report.
    public init?(line: String) {
        let fields = line.split(separator: "\t", maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count == 4, fields[0] == Self.marker, let reporter = Int(fields[1]), let blamed = Int(fields[2]) else {
            return nil
        }
        self.init(reporter: reporter, blamed: blamed >= 0 ? blamed : nil,
                  detail: fields[3].trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Writes the report (best effort: a failure to write must not hide the failure itself).
    public func write(to path: String) {
        try? Data((line + "\n").utf8).write(to: URL(fileURLWithPath: path))   // not atomic: no temporary file to rename
    }

    /// The report in `path`, if there is a readable one.
    public static func read(from path: String) -> FailureReport? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return FailureReport(line: String(decoding: data, as: UTF8.self))
    }

    /// `duration` in seconds with one decimal, e.g. `10.0`.
    static func seconds(_ duration: Duration) -> String {
        let tenths = Int((Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18) * 10 + 0.5)
        return "\(tenths / 10).\(tenths % 10)"
    }
}
