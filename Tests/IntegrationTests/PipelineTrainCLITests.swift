import Foundation
import Testing

/// `trident train --pp` driven as a user would: over TCP processes equal to one rank (and to
/// the float64 reference), the merged `--save` from every stage, `bench train` pipeline
/// fields, and a stage killed mid-run.
@Suite("trident train --pp", .serialized,
       .enabled(if: CLIPaths.binary != nil && FileManager.default.fileExists(atPath: CLIPaths.license),
                "needs a built trident and models/LICENSE.txt"))
struct PipelineTrainCLITests {
    static func losses(_ steps: [[String: Any]]) -> [(Double, Double)] {
        steps.map { (TrainCLITests.number($0, "loss"), TrainCLITests.number($0, "grad_norm")) }
    }

    @Test("PP 2 over TCP (1F1B and GPipe, --accumulate 2) prints the same steps as one rank and matches the reference")
    func tcpEqualsOneRank() throws {
        let one = try TrainCLITests.train(CLIPaths.tinyModel("f32"), ["--accumulate", "2"], microBatch: 1)
        #expect(one.result.status == 0, "\(one.result.transcript)")
        for schedule in ["1f1b", "gpipe"] {
            let two = try TrainCLITests.train(CLIPaths.tinyModel("f32"),
                                              ["--pp", "2", "--backend", "tcp", "--accumulate", "2", "--schedule", schedule],
                                              microBatch: 1)
            #expect(two.result.status == 0, "\(two.result.transcript)")
            #expect(two.steps.count == one.steps.count)
            for (a, b) in zip(Self.losses(two.steps), Self.losses(one.steps)) {
                #expect(abs(a.0 - b.0) <= 1e-5 * b.0 && abs(a.1 - b.1) <= 1e-5 * b.1, "\(schedule): \(a) vs \(b)")
            }
            TrainCLITests.expectReference(two.steps, try TrainCLITests.reference("tiny-llama-f32"), "pp 2 \(schedule)")
            let summary = two.summary
            #expect(summary["schedule"] as? String == schedule)
            #expect(abs(TrainCLITests.number(summary, "predicted_bubble") - 1.0 / 3.0) < 1e-9)
            let ranks = summary["ranks"] as? [[String: Any]] ?? []
            #expect(ranks.count == 2 && ranks.allSatisfy { ($0["peak_activation_micro_batches"] as? Int ?? 0) >= 1 })
        }
    }

    @Test("interleaved 1F1B (--pp 2 --virtual-stages 2 over TCP, 6 blocks) prints the same steps as one rank")
    func interleavedEqualsOneRank() throws {
        let model = CLIPaths.tinyModel("6l-q8_0")
        let one = try TrainCLITests.train(model, ["--accumulate", "2"], steps: 3, microBatch: 1)
        let run = try TrainCLITests.train(model, ["--pp", "2", "--backend", "tcp", "--accumulate", "2", "--schedule",
                                                  "interleaved", "--virtual-stages", "2"], steps: 3, microBatch: 1)
        #expect(one.result.status == 0 && run.result.status == 0, "\(run.result.transcript)")
        #expect(run.steps.count == 3 && one.steps.count == 3)
        for (a, b) in zip(Self.losses(run.steps), Self.losses(one.steps)) {
            #expect(abs(a.0 - b.0) <= 1e-5 * b.0 && abs(a.1 - b.1) <= 1e-5 * b.1, "\(a) vs \(b)")
        }
        #expect(abs(TrainCLITests.number(run.summary, "predicted_bubble") - 1.0 / 5.0) < 1e-9)
        let bad = try runCLI(["train", "--model", model, "--data", CLIPaths.license, "--seq-len", "32", "--micro-batch", "1",
                              "--steps", "1", "--lr", "1e-4", "--pp", "2", "--accumulate", "3", "--schedule", "interleaved",
                              "--virtual-stages", "2"])
        #expect(bad.status != 0 && bad.stderr.contains("multiple of --pp"), "\(bad.transcript)")
    }

    @Test("--save under PP 2 x TP 2 writes the same merged model.gguf as one rank (a step from each gives the same loss)")
    func saveGathersEveryStage() throws {
        try withTemporaryDirectory { directory in
            let one = directory.appendingPathComponent("one").path, grid = directory.appendingPathComponent("grid").path
            let a = try TrainCLITests.train(CLIPaths.tinyModel("f32"), ["--save", one], steps: 2)
            let b = try TrainCLITests.train(CLIPaths.tinyModel("f32"), ["--save", grid, "--pp", "2", "--tp", "2"], steps: 2)
            #expect(a.result.status == 0 && b.result.status == 0, "\(b.result.transcript)")
            let fromOne = try TrainCLITests.train(one + "/model.gguf", [], steps: 1)
            let fromGrid = try TrainCLITests.train(grid + "/model.gguf", [], steps: 1)
            #expect(fromOne.result.status == 0 && fromGrid.result.status == 0, "\(fromGrid.result.transcript)")
            let x = TrainCLITests.number(fromOne.steps.first ?? [:], "loss")
            let y = TrainCLITests.number(fromGrid.steps.first ?? [:], "loss")
            #expect(abs(x - y) <= 1e-5 * x, "loss from the one-rank save \(x), from the PP 2 x TP 2 save \(y)")
        }
    }

    @Test("bench train --pp 2 reports idle fractions, the predicted bubble and peak saved activations per stage")
    func benchTrainPipeline() throws {
        for (schedule, expected) in [("gpipe", [4, 4]), ("1f1b", [2, 1])] {
            let result = try runCLI(["bench", "train", "--model", CLIPaths.tinyModel("q8_0"), "--seq-len", "16",
                                     "--micro-batch", "1", "--pp", "2", "--accumulate", "4", "--schedule", schedule,
                                     "--steps", "2", "--warmup-steps", "1", "--json"])
            #expect(result.status == 0, "\(result.transcript)")
            let report = try result.lastJSON()
            #expect(abs(TrainCLITests.number(report, "predicted_bubble") - 0.2) < 1e-9)
            let idle = TrainCLITests.number(report, "mean_idle_fraction")
            #expect(idle >= 0 && idle <= 1)
            let ranks = report["ranks"] as? [[String: Any]] ?? []
            #expect(ranks.map { $0["peak_activation_micro_batches"] as? Int ?? -1 } == expected, "\(schedule): \(ranks)")
        }
    }

    @Test("SIGKILL of the last stage (--pp 2 --backend tcp): every rank ends within 10 s, non-zero, naming rank 1")
    func killedStageEndsTheRun() throws {
        let child = try Child(tridentBinary!, TrainFaultTests.longRun(["--pp", "2", "--backend", "tcp", "--accumulate", "2"]),
                              environment: ["TRIDENT_SECRET": "pp-kill-\(UUID())"])
        let launcher = child.process.processIdentifier
        var victim: pid_t?
        let found = FaultToleranceTests.eventually(60) {
            victim = FaultToleranceTests.workers(of: launcher).first { TrainFaultTests.rank(of: $0) == 1 }
            return victim != nil
        }
        guard found, let victim else {
            Issue.record("no rank-1 worker appeared: \(child.finish(timeout: 1).output)")
            return
        }
        sleep(3)
        #expect(child.process.isRunning, "the run ended before the kill")
        kill(victim, SIGKILL)
        let killed = Date()
        let result = child.finish(timeout: 30)
        let seconds = Date().timeIntervalSince(killed)
        #expect(seconds <= 10, "the run took \(seconds) s to end after the kill")
        #expect(result.status != 0 && !result.signaled, "status \(result.status): \(result.output)")
        let last = result.output.split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? ""
        #expect(last.contains("rank 1"), "last line: \(last)\n\(result.output.suffix(2000))")
    }
}

/// SmolLM2 (tied embeddings: the LM head on the last stage uses its own copy of token_embd)
/// at PP 2 against the float64 autograd reference.
@Suite("trident train --pp on SmolLM2",
       .enabled(if: CLIPaths.binary != nil && CLIPaths.smolLM2Available
                    && FileManager.default.fileExists(atPath: CLIPaths.license),
                "needs a built trident, the SmolLM2 model and models/LICENSE.txt"))
struct PipelineTrainSmolLM2Tests {
    @Test("PP 2 (1F1B, 2 micro-batches of 1): step 1 loss and grad_norm within 1e-4 of the reference, step 2's loss within 1e-3")
    func matchesReference() throws {
        let reference = try TrainCLITests.reference("smollm2-q4_1")
        let result = try runCLI(["train", "--model", CLIPaths.smolLM2, "--data", CLIPaths.license, "--seq-len", "64",
                                 "--micro-batch", "1", "--accumulate", "2", "--pp", "2", "--steps", "2", "--lr", "1e-4",
                                 "--json"], timeout: 600)
        #expect(result.status == 0, "\(result.transcript)")
        let steps = result.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }.filter { $0["step"] != nil }
        #expect(steps.count == 2 && reference.count >= 2)
        guard steps.count == 2, reference.count >= 2 else { return }
        let loss = TrainCLITests.number(steps[0], "loss"), norm = TrainCLITests.number(steps[0], "grad_norm")
        #expect(abs(loss - reference[0].loss) <= 1e-4 * reference[0].loss, "step 1 loss \(loss) vs \(reference[0].loss)")
        #expect(abs(norm - reference[0].norm) <= 1e-4 * reference[0].norm, "step 1 grad_norm \(norm) vs \(reference[0].norm)")
        let second = TrainCLITests.number(steps[1], "loss")
        #expect(abs(second - reference[1].loss) <= 1e-3 * reference[1].loss, "step 2 loss \(second) vs \(reference[1].loss)")
    }
}
