import Foundation
import TridentCollectives
#if canImport(Glibc)
import Glibc
#endif

/// How one worker ended, as the launcher saw it.
struct WorkerExit: Sendable {
    var rank: Int
    /// Killed by a signal (`status` is the signal number) rather than exited.
    var signaled: Bool
    var status: Int32
    /// The exit came before the launcher started stopping the job (not caused by it).
    var beforeStop: Bool

    var failed: Bool { signaled || status != 0 }
}

/// Finds the rank that caused a failed job and why, for the launcher's last line.
///
/// The first rank to exit is often a witness, not the culprit (a frozen rank never exits;
/// its peers fail when its heartbeats stop). So the blame is followed through the ranks'
/// `FailureReport`s from the first failed exit to the rank it names, and so on; the reason is
/// that rank's own death by a signal, else its own error line (`trident: error: ...`), else
/// what the last witness reported (e.g. `no heartbeat for 10.0 s`).
struct FailureDiagnosis {
    /// Exits in the order seen.
    var exits: [WorkerExit]
    /// Failure reports by world rank (this node's ranks only).
    var reports: [Int: FailureReport]
    /// Last `trident: error:` line by world rank, without that prefix.
    var errorLines: [Int: String]
    /// The rank whose stdout is passed straight through (its SIGPIPE means "reader gone").
    var directOutputRank: Int?

    static let errorPrefix = "trident: error: "

    /// The error to report, or nil when every worker succeeded.
    func error() -> LaunchError? {
        guard let first = exits.first(where: \.failed) else { return nil }
        if let rank = directOutputRank, exits.contains(where: { $0.rank == rank && $0.beforeStop && $0.signaled && $0.status == SIGPIPE }) {
            return .outputClosed(rank: rank)
        }
        var culprit = first.rank
        var witness: FailureReport?
        var visited: Set<Int> = [culprit]
        while let report = reports[culprit], let blamed = report.blamed, blamed != culprit, !visited.contains(blamed) {
            if selfCaused(culprit) { break }
            witness = report
            culprit = blamed
            visited.insert(blamed)
        }
        if let exit = exits.first(where: { $0.rank == culprit && $0.beforeStop && $0.signaled }) {
            return .workerSignaled(rank: culprit, signal: exit.status)
        }
        if let line = errorLines[culprit], reports[culprit]?.blamed == nil || reports[culprit]?.blamed == culprit {
            return .rankFailed(rank: culprit, reason: line)
        }
        if let witness { return .rankFailed(rank: culprit, reason: Self.reason(witness)) }
        if let line = errorLines[culprit] { return .rankFailed(rank: culprit, reason: line) }
        return first.signaled ? .workerSignaled(rank: first.rank, signal: first.status)
                              : .workerExited(rank: first.rank, status: first.status)
    }

    /// A witness's report as `detail (reported by rank R)`, R being the rank that saw it first
    /// (a report relayed through abort frames reads `reported by rank R: detail`).
    static func reason(_ witness: FailureReport) -> String {
        var detail = Substring(witness.detail)
        var reporter = witness.reporter
        let relay = "reported by rank "
        while detail.hasPrefix(relay), let colon = detail.firstIndex(of: ":"),
              let rank = Int(detail[detail.index(detail.startIndex, offsetBy: relay.count)..<colon]) {
            reporter = rank
            detail = detail[detail.index(after: colon)...].drop { $0 == " " }
        }
        return "\(detail) (reported by rank \(reporter))"
    }

    /// The rank died of a signal on its own: it is the culprit whatever it reported.
    private func selfCaused(_ rank: Int) -> Bool {
        exits.contains { $0.rank == rank && $0.beforeStop && $0.signaled && $0.status != SIGPIPE }
    }
}
