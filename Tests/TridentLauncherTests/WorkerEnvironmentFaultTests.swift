import Foundation
import Testing
import TridentCollectives
@testable import TridentLauncher

@Suite("Launcher variables for fault handling")
struct WorkerEnvironmentFaultTests {
    @Test("TRIDENT_RDZV_TIMEOUT and TRIDENT_ERROR_FILE round-trip; bad timeouts are refused with the variable named")
    func variables() throws {
        var env = WorkerEnvironment(rank: 1, worldSize: 2, localRank: 1, masterAddress: "127.0.0.1", masterPort: 29_500, secret: "s")
        env.rendezvousTimeout = .milliseconds(2500)
        env.errorFile = "/tmp/x/rank-1"
        let parsed = try #require(try WorkerEnvironment.from(env.variables))
        #expect(parsed == env)
        for bad in ["0", "-1", "nan", "inf", "1e9", "x", ""] {
            var variables = env.variables
            variables["TRIDENT_RDZV_TIMEOUT"] = bad
            let error = #expect(throws: LaunchError.self) { try WorkerEnvironment.from(variables) }
            #expect(error?.description.contains("TRIDENT_RDZV_TIMEOUT") == true, "\(bad)")
        }
    }

    @Test("failure reports round-trip as one line; other text is not a report")
    func reports() throws {
        let report = FailureReport(reporter: 2, blamed: 1, detail: "no heartbeat\tfor 10.0 s\nsecond line")
        let parsed = try #require(FailureReport(line: report.line))
        #expect(parsed == FailureReport(reporter: 2, blamed: 1, detail: "no heartbeat for 10.0 s second line"))
        #expect(FailureReport(line: FailureReport(reporter: 0, blamed: nil, detail: "x").line)?.blamed == nil)
        #expect(FailureReport(line: "trident: error: something") == nil)
        #expect(FailureReport(line: "trident-failure-v1\tx\t1\td") == nil)
    }

    @Test("the launcher watch keeps a worker whose launcher lives and sees a dead one as dead")
    func watchLiveness() {
        // This process's parent is alive and is its parent.
        #expect(LauncherWatch.isAlive(getppid(), parent: getppid()))
        // A launcher that is not the parent: judged by whether its process id exists.
        #expect(LauncherWatch.isAlive(getpid(), parent: getppid()))
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try? gone.run()
        gone.waitUntilExit()
        #expect(!LauncherWatch.isAlive(gone.processIdentifier, parent: getppid()))
        // Its parent was the launcher, and the parent id changed: the launcher died.
        #expect(!LauncherWatch.isAlive(gone.processIdentifier, parent: gone.processIdentifier))
    }
}
