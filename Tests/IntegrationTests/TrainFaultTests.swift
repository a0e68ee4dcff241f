import Foundation
import Testing

/// Faults during `trident train`: a rank killed mid-step, a run killed while it saves.
@Suite("trident train faults", .serialized,
       .enabled(if: tridentBinary != nil && FileManager.default.fileExists(atPath: CLIPaths.license),
                "needs the trident binary and models/LICENSE.txt"))
struct TrainFaultTests {
    /// A run long enough to be killed in the middle (the tiny fixture, many steps).
    static func longRun(_ extra: [String]) -> [String] {
        ["train", "--model", CLIPaths.tinyModel("f32"), "--data", CLIPaths.license, "--seq-len", "32",
         "--micro-batch", "2", "--steps", "1000000", "--lr", "1e-4"] + extra
    }

    /// The `RANK` a worker process was started with.
    static func rank(of pid: pid_t) -> Int? {
        guard let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return nil }
        let entries = environ.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return entries.first { $0.hasPrefix("RANK=") }.flatMap { Int($0.dropFirst(5)) }
    }

    @Test("SIGKILL of rank 1 mid-run (--tp 2 --backend tcp): every rank ends within 10 s, non-zero, the last line names rank 1")
    func killedRankEndsTheRun() throws {
        let child = try Child(tridentBinary!, Self.longRun(["--tp", "2", "--backend", "tcp"]),
                              environment: ["TRIDENT_SECRET": "train-kill-\(UUID())"])
        let launcher = child.process.processIdentifier
        var victim: pid_t?
        let found = FaultToleranceTests.eventually(60) {
            victim = FaultToleranceTests.workers(of: launcher).first { Self.rank(of: $0) == 1 }
            return victim != nil
        }
        guard found, let victim else {
            let result = child.finish(timeout: 1)
            Issue.record("no rank-1 worker appeared: \(result.output)")
            return
        }
        sleep(3)    // well into the steps (the tiny model steps in milliseconds)
        #expect(child.process.isRunning, "the run ended before the kill")
        kill(victim, SIGKILL)
        let killed = Date()
        let result = child.finish(timeout: 30)
        let seconds = Date().timeIntervalSince(killed)
        #expect(seconds <= 10, "the run took \(seconds) s to end after the kill")
        #expect(result.status != 0 && !result.signaled, "status \(result.status): \(result.output)")
        #expect(FaultToleranceTests.eventually(10) { FaultToleranceTests.workers(of: launcher).isEmpty },
                "a worker outlived the run")
        let last = result.output.split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? ""
        #expect(last.contains("rank 1"), "last line: \(last)\n\(result.output.suffix(2000))")
    }

    @Test("a run killed while it writes a checkpoint (--save-every 1) leaves complete step-N directories and a partial one at most; --resume auto continues from the newest complete one",
          arguments: [false, true])
    func interruptedSave(afterFirstSave: Bool) throws {
        try withTemporaryDirectory { directory in
            let save = directory.appendingPathComponent("run").path
            let child = try Child(tridentBinary!, Self.longRun(["--save", save, "--save-every", "1", "--keep", "3"]))
            func entries() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: save)) ?? [] }
            // Kill while a save is in progress (a step-N.partial exists), on the first save or a later one.
            let caught = FaultToleranceTests.eventually(60) {
                let names = entries()
                if afterFirstSave && !names.contains("latest") { return false }
                return names.contains { $0.hasSuffix(".partial") }
            }
            kill(child.process.processIdentifier, SIGKILL)
            let result = child.finish(timeout: 30)
            #expect(caught, "never saw a checkpoint being written: \(result.output.suffix(2000))")
            #expect(result.signaled)
            let complete = entries().filter { $0.hasPrefix("step-") && !$0.hasSuffix(".partial") }
                .compactMap { Int($0.dropFirst(5)) }.sorted()
            #expect(!afterFirstSave || !complete.isEmpty, "the complete checkpoint vanished")
            for step in complete {
                let export = try runChild(tridentBinary!, ["export", save + "/step-\(step)", directory.appendingPathComponent("x.gguf").path],
                                          timeout: 120)
                #expect(export.status == 0, "step-\(step) is not intact: \(export.output)")
            }
            guard let newest = complete.last else { return }
            var arguments = Self.longRun(["--save", save, "--resume", "auto"])
            arguments[arguments.firstIndex(of: "1000000")!] = String(newest + 1)
            let resumed = try runChild(tridentBinary!, arguments, timeout: 120)
            #expect(resumed.status == 0 && resumed.output.contains("resumed from \(save)/step-\(newest)"), "\(resumed.output)")
        }
    }
}
