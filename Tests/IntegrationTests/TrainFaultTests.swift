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

    /// Hidden temporary files of an atomic write (`.NAME.tmp-PID-RANDOM`) in `directory`.
    static func temporaries(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.contains(".tmp-") }
    }

    @Test("a run killed while it writes model.gguf (--save-every 1) leaves the previous complete model.gguf, never a partial one",
          arguments: [false, true])
    func interruptedSave(afterFirstSave: Bool) throws {
        try withTemporaryDirectory { directory in
            let save = directory.appendingPathComponent("run").path
            let model = save + "/model.gguf"
            let child = try Child(tridentBinary!, Self.longRun(["--save", save, "--save-every", "1"]))
            // Kill as soon as a write of model.gguf is in progress (its temporary file exists),
            // on the first save or on a later one over a complete model.gguf.
            let caught = FaultToleranceTests.eventually(60) {
                if afterFirstSave && !FileManager.default.fileExists(atPath: model) { return false }
                return Self.temporaries(save).contains { $0.hasPrefix(".model.gguf") }
            }
            kill(child.process.processIdentifier, SIGKILL)
            let result = child.finish(timeout: 30)
            #expect(caught, "never saw model.gguf being written: \(result.output.suffix(2000))")
            #expect(result.signaled)
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: save)) ?? []
            // Anything left besides the complete files is a hidden temporary, which no reader opens.
            for name in entries where name.contains("model.gguf") && name != "model.gguf" {
                #expect(name.hasPrefix(".") && name.contains(".tmp-"), "stray file \(name)")
            }
            if FileManager.default.fileExists(atPath: model) {
                let info = try runChild(tridentBinary!, ["info", "--model", model], timeout: 60)
                #expect(info.status == 0, "trident info refuses the saved model: \(info.output)")
            } else {
                #expect(!afterFirstSave, "model.gguf vanished")
            }
        }
    }
}
