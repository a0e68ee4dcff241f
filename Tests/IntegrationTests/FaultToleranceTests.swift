import Foundation
import Testing
import TridentCollectives

/// Process-level faults of launched jobs: a dead launcher, forwarded signals, the last line of
/// a failed job, a closed output, misconfigured nodes, a rank that never joins, leaked segments.
@Suite("Fault tolerance of launched jobs", .serialized, .enabled(if: tridentBinary != nil, "needs the trident binary"))
struct FaultToleranceTests {
    /// Process ids of the workers started by launcher `pid` (they carry TRIDENT_LAUNCHER_PID).
    static func workers(of pid: pid_t) -> [pid_t] {
        let mark = Data("TRIDENT_LAUNCHER_PID=\(pid)\0".utf8)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(pid_t.init).filter { candidate in
            guard let environ = FileManager.default.contents(atPath: "/proc/\(candidate)/environ") else { return false }
            let state = (try? String(contentsOfFile: "/proc/\(candidate)/stat", encoding: .utf8)) ?? ""
            return environ.range(of: mark) != nil && !state.contains(") Z ")
        }
    }

    /// Waits until `condition` holds or `seconds` pass. - Returns: whether it held.
    static func eventually(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }

    /// A launched job that runs until killed: rank 1 freezes inside an all-reduce and the
    /// others wait for it (liveness 600 s). `viaShell`: workers are grandchildren of the launcher.
    func longJob(viaShell: Bool, secret: String = "long-job", port: Int = 29_650) throws -> Child {
        let command = viaShell
            ? ["/bin/sh", "-c", "\(tridentBinary!) collective-selftest --hang-rank 1 --liveness 600; true"]
            : ["trident", "collective-selftest", "--hang-rank", "1", "--liveness", "600"]
        return try Child(tridentBinary!, ["launch", "--nproc", "3", "--master-port", String(port), "--"] + command,
                         environment: ["TRIDENT_SECRET": secret], defaultSignals: true)
    }

    /// Names under /dev/shm of the segments of the job with `secret` and `port`.
    static func segments(secret: String, port: Int) -> [String] {
        let prefix = SharedMemoryJob.jobPrefix(jobKey: SharedMemoryJob.jobKey(secret: secret, masterPort: port))
        return ((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []).filter { $0.hasPrefix(prefix) }
    }

    @Test("workers die within 5 s of their launcher's SIGKILL (direct children and through a shell), leaving no segment",
          arguments: [false, true])
    func launcherKilled(viaShell: Bool) throws {
        let secret = "killed-launcher-\(UUID())", port = viaShell ? 29_651 : 29_652
        let job = try longJob(viaShell: viaShell, secret: secret, port: port)
        let launcher = job.process.processIdentifier
        #expect(Self.eventually(20) { Self.workers(of: launcher).count >= 3 }, "workers did not start")
        usleep(500_000)
        kill(launcher, SIGKILL)
        _ = job.finish(timeout: 5)
        let gone = Self.eventually(5) { Self.workers(of: launcher).isEmpty }
        for pid in Self.workers(of: launcher) { kill(pid, SIGKILL) }
        #expect(gone, "workers outlived their launcher by 5 s")
        // Rank 1 froze inside the first all-reduce, after rank 0 created the segment it never attached.
        #expect(Self.segments(secret: secret, port: port).isEmpty, "\(Self.segments(secret: secret, port: port))")
    }

    @Test("SIGHUP, SIGTERM and SIGINT sent to the launcher reach the workers", arguments: [SIGHUP, SIGTERM, SIGINT])
    func forwardedSignals(signal: Int32) throws {
        let job = try longJob(viaShell: false)
        let launcher = job.process.processIdentifier
        #expect(Self.eventually(20) { Self.workers(of: launcher).count == 3 }, "workers did not start")
        usleep(300_000)
        kill(launcher, signal)
        let result = job.finish(timeout: 15)
        #expect(result.status != 0 && !result.signaled, "\(result.output)")
        #expect(Self.workers(of: launcher).isEmpty)
        #expect(result.seconds < 15)
    }

    @Test("a launcher started with SIGINT ignored (a script's background job) still stops its workers on SIGINT",
          .enabled(if: Child.envResetsSignals, "needs env --ignore-signal"))
    func ignoredInterruptStillStops() throws {
        let job = try Child("/usr/bin/env", ["--ignore-signal=INT", tridentBinary!, "launch", "--nproc", "3",
                                             "--master-port", "29653", "--", "trident", "collective-selftest",
                                             "--hang-rank", "1", "--liveness", "600"],
                            environment: ["TRIDENT_SECRET": "ignored-interrupt"])
        let launcher = job.process.processIdentifier   // env execs the launcher: same pid
        #expect(Self.eventually(20) { Self.workers(of: launcher).count == 3 }, "workers did not start")
        usleep(300_000)
        kill(launcher, SIGINT)
        let result = job.finish(timeout: 15)
        #expect(result.status != 0 && !result.signaled && result.seconds < 15, "\(result.output)")
        #expect(Self.workers(of: launcher).isEmpty)
    }

    @Test("a frozen rank: the last line names it and the missing heartbeat, within 15 s")
    func frozenRankLastLine() throws {
        let r = try runChild(tridentBinary!, ["launch", "--nproc", "3", "--", "trident", "collective-selftest",
                                              "--hang-rank", "1", "--liveness", "2"], timeout: 30)
        let last = r.output.split(separator: "\n").last.map(String.init) ?? ""
        #expect(r.status == 1)
        #expect(last.hasPrefix("trident: error: rank 1 failed: no heartbeat for 2."), "\(r.output)")
        #expect(last.contains("(reported by rank 0)") || last.contains("(reported by rank 2)"), "\(last)")
        #expect(r.seconds < 15)
    }

    @Test("a rank left stopped after the others finished fails the job, naming it")
    func stoppedAfterOthersFinished() throws {
        let r = try runChild(tridentBinary!, ["launch", "--nproc", "2", "--", "/bin/sh", "-c",
                                              "if [ $RANK = 1 ]; then kill -STOP $$; fi; exit 0"], timeout: 30)
        let last = r.output.split(separator: "\n").last.map(String.init) ?? ""
        #expect(r.status == 1)
        #expect(last == "trident: error: rank 1 failed: stopped (SIGSTOP) while the other ranks finished", "\(r.output)")
        #expect(r.seconds < 10)
    }

    @Test("a failed launch ends with one non-empty error line naming the rank")
    func noEmptyErrorLine() throws {
        let r = try runChild(tridentBinary!, ["launch", "--nproc", "2", "--", "/bin/false"])
        #expect(r.status == 1)
        let lines = r.output.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
        #expect(!lines.contains { $0.trimmingCharacters(in: .whitespaces) == "trident: error:" }, "\(r.output)")
        #expect(lines.last?.contains("exited with status 1") == true, "\(r.output)")
        #expect(lines.count == 1, "\(r.output)")
    }

    @Test("a closed stdout of the direct-output rank ends the job quietly, as `yes | head` does")
    func closedOutput() throws {
        let script = "\(tridentBinary!) launch --nproc 2 --direct-output-rank 0 -- /bin/sh -c "
            + "'if [ $RANK = 0 ]; then exec yes; else exec sleep 30; fi' 2>\"$1\" | head -c 20 >/dev/null; "
            + "echo ${PIPESTATUS[0]}"
        try withTemporaryDirectory { directory in
            let err = directory.appendingPathComponent("stderr").path
            let r = try runChild("/bin/bash", ["-c", script, "sh", err], timeout: 30)
            #expect(r.output.trimmingCharacters(in: .whitespacesAndNewlines) == "141", "\(r.output)")
            let stderr = (try? String(contentsOfFile: err, encoding: .utf8)) ?? "?"
            #expect(stderr.isEmpty, "stderr: \(stderr)")
            #expect(r.seconds < 10)
        }
    }

    /// Two launchers on this host as two nodes of one job, each with its own variables.
    func twoNodes(secrets: [String], nnodes: [Int], port: Int) throws -> [ChildResult] {
        let nodes = try (0..<2).map { node in
            try Child(tridentBinary!, ["launch", "--nnodes", String(nnodes[node]), "--node-rank", String(node), "--nproc", "2",
                                       "--master-port", String(port), "--rdzv-timeout", "60", "--",
                                       "trident", "collective-selftest", "--counts", "1"],
                      environment: ["TRIDENT_SECRET": secrets[node]])
        }
        return nodes.map { $0.finish(timeout: 40) }
    }

    @Test("a different TRIDENT_SECRET on node 1 is diagnosed on both nodes at once")
    func secretMismatch() throws {
        let results = try twoNodes(secrets: ["secret-a", "secret-b"], nnodes: [2, 2], port: 29_641)
        for result in results {
            #expect(result.status == 1, "\(result.output)")
            #expect(result.seconds < 10, "took \(result.seconds) s: \(result.output)")
        }
        #expect(results[0].output.contains("different job secret"), "\(results[0].output)")
        #expect(results[1].output.contains("refused this job secret"), "\(results[1].output)")
    }

    @Test("a different --nnodes on node 1 is diagnosed on both nodes at once")
    func nnodesMismatch() throws {
        let results = try twoNodes(secrets: ["same", "same"], nnodes: [2, 3], port: 29_642)
        for result in results {
            #expect(result.status == 1, "\(result.output)")
            #expect(result.seconds < 10, "took \(result.seconds) s: \(result.output)")
            #expect(result.output.contains("give every node the same --nnodes and --nproc"), "\(result.output)")
        }
    }

    @Test("a rank frozen before it connects fails the job at --rdzv-timeout, naming it")
    func frozenBeforeConnecting() throws {
        let r = try runChild(tridentBinary!, ["launch", "--nproc", "3", "--rdzv-timeout", "3", "--", "/bin/sh", "-c",
                                              "if [ $RANK = 2 ]; then kill -STOP $$; fi; exec \(tridentBinary!) collective-selftest --counts 1"],
                             timeout: 40)
        let last = r.output.split(separator: "\n").last.map(String.init) ?? ""
        #expect(r.status == 1)
        #expect(last.hasPrefix("trident: error: rank 2 failed: did not connect within the forming deadline of 3.0 s"),
                "\(r.output)")
        #expect(r.seconds < 12, "took \(r.seconds) s")
    }

    @Test("the launcher removes its job's shared-memory segments however the job ends", arguments: [false, true])
    func sharedMemoryRemoved(killRank: Bool) throws {
        let secret = "shm-test-\(UUID())", port = 29_643 + (killRank ? 1 : 0)
        let key = SharedMemoryJob.jobKey(secret: secret, masterPort: port)
        // A segment as a rank killed between creating and unlinking it would leave.
        let leaked = "/dev/shm/" + SharedMemoryJob.jobPrefix(jobKey: key) + "ff"
        #expect(FileManager.default.createFile(atPath: leaked, contents: Data(count: 4096)))
        let r = try runChild(tridentBinary!, ["launch", "--nproc", "3", "--master-port", String(port), "--", "trident",
                                              "collective-selftest", "--counts", "1,4097"] + (killRank ? ["--kill-rank", "1"] : []),
                             environment: ["TRIDENT_SECRET": secret], timeout: 60)
        #expect(r.status == (killRank ? 1 : 0), "\(r.output)")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []
        #expect(!left.contains { $0.hasPrefix(SharedMemoryJob.jobPrefix(jobKey: key)) }, "\(left)")
        try? FileManager.default.removeItem(atPath: leaked)
    }
}
