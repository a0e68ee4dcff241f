import Foundation
import Testing
import TridentCollectives
@testable import TridentLauncher

/// The launcher's last line: the rank that caused a failure and why, from exits in the order
/// seen, the ranks' failure reports and their error lines.
@Suite("Launcher failure diagnosis")
struct FailureDiagnosisTests {
    func exit(_ rank: Int, status: Int32 = 1, signaled: Bool = false, beforeStop: Bool = true) -> WorkerExit {
        WorkerExit(rank: rank, signaled: signaled, status: status, beforeStop: beforeStop)
    }

    @Test("a frozen rank is named with its witness's reason, not the witness that exited first")
    func frozenRank() {
        let diagnosis = FailureDiagnosis(
            exits: [exit(0), exit(2, status: 15, signaled: true, beforeStop: false), exit(1, status: 9, signaled: true, beforeStop: false)],
            reports: [0: FailureReport(reporter: 0, blamed: 1, detail: "no heartbeat for 10.0 s"),
                      2: FailureReport(reporter: 2, blamed: 1, detail: "reported by rank 0: no heartbeat for 10.0 s")],
            errorLines: [0: "rank 0: allReduce in group world failed: peer rank 1 failed (no heartbeat for 10.0 s)"],
            directOutputRank: 0)
        #expect(diagnosis.error()?.description == "rank 1 failed: no heartbeat for 10.0 s (reported by rank 0)")
    }

    @Test("a relayed report names the rank that saw the failure first")
    func relayed() {
        let diagnosis = FailureDiagnosis(
            exits: [exit(2)],
            reports: [2: FailureReport(reporter: 2, blamed: 1, detail: "reported by rank 0: reported by rank 3: no heartbeat for 2.0 s")],
            errorLines: [:], directOutputRank: nil)
        #expect(diagnosis.error() == .rankFailed(rank: 1, reason: "no heartbeat for 2.0 s (reported by rank 3)"))
    }

    @Test("a rank killed by a signal is the culprit even when a witness exited first")
    func killedRank() {
        let diagnosis = FailureDiagnosis(
            exits: [exit(0), exit(1, status: 9, signaled: true)],
            reports: [0: FailureReport(reporter: 0, blamed: 1, detail: "connection closed by peer")],
            errorLines: [0: "rank 0: broadcast failed"], directOutputRank: 0)
        #expect(diagnosis.error() == .workerSignaled(rank: 1, signal: 9))
    }

    @Test("a rank that failed on its own is named with its own error line")
    func ownError() {
        let diagnosis = FailureDiagnosis(
            exits: [exit(0), exit(1)],
            reports: [0: FailureReport(reporter: 0, blamed: 1, detail: "peer closed its communicator")],
            errorLines: [0: "rank 0: recv failed", 1: "cannot read tensor blk.3.attn_q.weight"], directOutputRank: nil)
        #expect(diagnosis.error() == .rankFailed(rank: 1, reason: "cannot read tensor blk.3.attn_q.weight"))
    }

    @Test("without reports or error lines the first failed exit is reported as before; success is nil")
    func plainExits() {
        #expect(FailureDiagnosis(exits: [exit(0, status: 0), exit(1, status: 7)], reports: [:], errorLines: [:],
                                 directOutputRank: nil).error() == .workerExited(rank: 1, status: 7))
        #expect(FailureDiagnosis(exits: [exit(0, status: 0), exit(1, status: 0)], reports: [:], errorLines: [:],
                                 directOutputRank: nil).error() == nil)
    }

    @Test("SIGPIPE of the direct-output rank is a closed output (quiet end); of another rank it is a failure")
    func closedOutput() {
        let pipe = [exit(1, status: 1), exit(0, status: SIGPIPE, signaled: true)]
        #expect(FailureDiagnosis(exits: pipe, reports: [:], errorLines: [:], directOutputRank: 0).error() == .outputClosed(rank: 0))
        #expect(FailureDiagnosis(exits: pipe, reports: [:], errorLines: [:], directOutputRank: nil).error()
                == .workerExited(rank: 1, status: 1))
    }

    @Test("blame cycles end (two ranks blaming each other)")
    func cycle() {
        let diagnosis = FailureDiagnosis(
            exits: [exit(0), exit(1)],
            reports: [0: FailureReport(reporter: 0, blamed: 1, detail: "a"), 1: FailureReport(reporter: 1, blamed: 0, detail: "b")],
            errorLines: [:], directOutputRank: nil)
        #expect(diagnosis.error() == .rankFailed(rank: 1, reason: "a (reported by rank 0)"))
    }
}
