import Foundation
import Testing
import TridentCollectives

/// `trident train` driven as a user would, on the tiny fixtures and the float64 autograd
/// reference in `Tests/Fixtures/training` (B=2, L=32, constant lr 1e-4, no decay, no clipping,
/// `models/LICENSE.txt`).
@Suite("trident train", .serialized,
       .enabled(if: CLIPaths.binary != nil && FileManager.default.fileExists(atPath: CLIPaths.license),
                "needs a built trident and models/LICENSE.txt"))
struct TrainCLITests {
    /// The reference run's per-step loss and grad_norm.
    static func reference(_ name: String) throws -> [(loss: Double, norm: Double)] {
        let url = CLIPaths.fixtures.appendingPathComponent("training/\(name).license.json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        let steps = object?["steps"] as? [[String: Any]] ?? []
        return steps.map { (($0["loss"] as? NSNumber)?.doubleValue ?? .nan, ($0["grad_norm"] as? NSNumber)?.doubleValue ?? .nan) }
    }

    /// `train --json` with the reference's settings; returns the step lines and the summary.
    static func train(_ model: String, _ extra: [String], steps: Int = 5, microBatch: Int = 2)
        throws -> (steps: [[String: Any]], summary: [String: Any], result: CLIResult) {
        let result = try runCLI(["train", "--model", model, "--data", CLIPaths.license, "--seq-len", "32",
                                 "--micro-batch", String(microBatch), "--steps", String(steps), "--lr", "1e-4", "--json"] + extra,
                                timeout: 300)
        let objects = result.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        return (objects.filter { $0["step"] != nil }, objects.last ?? [:], result)
    }

    static func number(_ object: [String: Any], _ key: String) -> Double { (object[key] as? NSNumber)?.doubleValue ?? .nan }

    /// Step 1 within 1e-4 relative of the reference (loss and grad_norm), five losses within 1e-3.
    static func expectReference(_ steps: [[String: Any]], _ reference: [(loss: Double, norm: Double)], _ what: String) {
        #expect(steps.count == 5, "\(what): \(steps.count) steps")
        guard let first = steps.first, reference.count == 5 else { return }
        #expect(abs(number(first, "loss") - reference[0].loss) <= 1e-4 * reference[0].loss, "\(what): step 1 loss")
        #expect(abs(number(first, "grad_norm") - reference[0].norm) <= 1e-4 * reference[0].norm, "\(what): step 1 grad_norm")
        for (step, expected) in zip(steps, reference) {
            #expect(abs(number(step, "loss") - expected.loss) <= 1e-3 * expected.loss, "\(what): step \(step["step"] ?? "?")")
        }
    }

    @Test("one rank, TP 2, DP 2 and TP 2 x DP 2 (threads) match the float64 reference (f32 and q4_1 weights)",
          arguments: ["f32", "q4_1"])
    func layoutsMatchReference(variant: String) throws {
        let reference = try Self.reference("tiny-llama-\(variant)")
        for (extra, microBatch) in [([String](), 2), (["--tp", "2"], 2), (["--dp", "2"], 1), (["--tp", "2", "--dp", "2"], 1),
                                    (["--accumulate", "2"], 1)] {
            let run = try Self.train(CLIPaths.tinyModel(variant), extra, microBatch: microBatch)
            #expect(run.result.status == 0, "\(run.result.transcript)")
            Self.expectReference(run.steps, reference, "\(variant) \(extra)")
            let ranks = run.summary["ranks"] as? [[String: Any]] ?? []
            #expect(ranks.count == (extra.contains("--tp") ? 2 : 1) * (extra.contains("--dp") ? 2 : 1))
        }
    }

    @Test("TP 2 over TCP processes matches the reference")
    func tcpMatchesReference() throws {
        let run = try Self.train(CLIPaths.tinyModel("f32"), ["--tp", "2", "--backend", "tcp"])
        #expect(run.result.status == 0, "\(run.result.transcript)")
        Self.expectReference(run.steps, try Self.reference("tiny-llama-f32"), "tcp")
    }

    @Test("DP 2 under mpirun matches the reference",
          .enabled(if: MPISupport.isAvailable && CLIPaths.mpirunAvailable, "needs --traits MPI and mpirun"))
    func mpiMatchesReference() throws {
        let run = try Self.train(CLIPaths.tinyModel("f32"), ["--dp", "2", "--backend", "mpi"], microBatch: 1)
        #expect(run.result.status == 0, "\(run.result.transcript)")
        Self.expectReference(run.steps, try Self.reference("tiny-llama-f32"), "mpi")
    }

    @Test("--json lines carry the contract's fields; a progress line per step on stderr")
    func jsonFields() throws {
        let run = try Self.train(CLIPaths.tinyModel("q8_0"), ["--dp", "2"], steps: 2, microBatch: 1)
        #expect(run.result.status == 0, "\(run.result.transcript)")
        for step in run.steps {
            #expect(Set(step.keys) == ["step", "loss", "grad_norm", "lr", "tokens", "tokens_per_second", "seconds"])
            #expect(Self.number(step, "tokens") == 64)
        }
        #expect(Set(run.summary.keys) == ["steps", "tokens", "seconds", "tokens_per_second", "peak_rss_bytes", "ranks",
                                          "tp", "pp", "dp", "seq_len", "micro_batch", "accumulate", "recompute", "zero"])
        #expect(Self.number(run.summary, "dp") == 2 && Self.number(run.summary, "zero") == 0)
        let rank = (run.summary["ranks"] as? [[String: Any]])?.first ?? [:]
        #expect(Set(rank.keys) == ["rank", "tp", "pp", "dp", "peak_rss_bytes", "compute_seconds", "communication_seconds",
                                   "window_seconds", "busy_fraction", "exposed_communication_seconds",
                                   "optimizer_state_bytes", "peak_activation_bytes", "peak_activation_micro_batches",
                                   "hidden_tensor_communication_seconds"])
        #expect(Self.number(rank, "hidden_tensor_communication_seconds") == 0, "no --tp-comm-overlap, nothing hidden")
        let progress = run.result.stderrLines.filter { $0.hasPrefix("step ") }
        #expect(progress.count == 2 && progress[1].hasPrefix("step 2/2") && progress[1].contains("grad-norm"))
    }

    @Test("a run resumed after step 3 prints steps 4 and 5 equal to the uninterrupted run; the saved model generates")
    func resumeAndGenerate() throws {
        try withTemporaryDirectory { directory in
            let checkpoint = directory.appendingPathComponent("ck").path
            let common = ["--tp", "2", "--dp", "2", "--accumulate", "2", "--shuffle", "--seed", "3", "--clip-norm", "1",
                          "--weight-decay", "0.1"]
            func strip(_ step: [String: Any]) -> [String: Double] {
                ["step", "loss", "grad_norm", "lr"].reduce(into: [:]) { $0[$1] = Self.number(step, $1) }
            }
            let straight = try Self.train(CLIPaths.tinyModel("q8_0"), common, microBatch: 1)
            let first = try Self.train(CLIPaths.tinyModel("q8_0"), common + ["--save", checkpoint, "--save-type", "q8_0"],
                                       steps: 3, microBatch: 1)
            let resumed = try Self.train(CLIPaths.tinyModel("q8_0"), common + ["--resume", checkpoint], microBatch: 1)
            #expect(straight.result.status == 0 && first.result.status == 0 && resumed.result.status == 0,
                    "\(resumed.result.transcript)")
            #expect(resumed.steps.map(strip) == straight.steps.suffix(2).map(strip))
            let other = try Self.train(CLIPaths.tinyModel("q8_0"), ["--resume", checkpoint], microBatch: 1)
            #expect(other.result.status != 0 && other.result.stderrLines.count == 1)
            #expect(other.result.stderr.contains("global batch of 4 sequences"), "\(other.result.stderr)")
            let generated = try runCLI(["generate", "--model", checkpoint + "/model.gguf", "--prompt", "The license",
                                        "--max-tokens", "4", "--json"])
            #expect(generated.status == 0, "\(generated.transcript)")
            #expect(jsonInts(try generated.lastJSON()["tokens"]).count == 4)
        }
    }

    @Test("--save f32 holds the trained weights: a run from them equals the run that went on; f16/bf16 checkpoints generate")
    func savedWeightsAreTheTrainedOnes() throws {
        try withTemporaryDirectory { directory in
            // 80 bytes (one token per byte for the tiny byte-level vocabulary): 2 sequences of 32,
            // so with --micro-batch 2 step 2 sees step 1's sequences again.
            let data = directory.appendingPathComponent("two.txt")
            try Data(String(repeating: "Licensed under the Apache License. ", count: 3).prefix(80).utf8).write(to: data)
            let checkpoint = directory.appendingPathComponent("ck").path
            func run(_ model: String, steps: Int, _ extra: [String]) throws -> (CLIResult, [[String: Any]]) {
                let result = try runCLI(["train", "--model", model, "--data", data.path, "--seq-len", "32", "--micro-batch", "2",
                                         "--steps", String(steps), "--lr", "1e-3", "--json"] + extra)
                let lines = result.stdout.split(separator: "\n").compactMap {
                    try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
                }
                return (result, lines.filter { $0["step"] != nil })
            }
            let (saved, _) = try run(CLIPaths.tinyModel("f32"), steps: 1, ["--save", checkpoint, "--tp", "2"])
            let (straight, steps) = try run(CLIPaths.tinyModel("f32"), steps: 2, [])
            let (reloaded, again) = try run(checkpoint + "/model.gguf", steps: 1, [])
            #expect(saved.status == 0 && straight.status == 0 && reloaded.status == 0, "\(reloaded.transcript)")
            let continued = Self.number(steps.last ?? [:], "loss"), fromFile = Self.number(again.first ?? [:], "loss")
            #expect(abs(continued - fromFile) <= 1e-6 * continued, "step 2 loss \(continued), from the saved model \(fromFile)")
            for type in ["f16", "bf16", "q8_0"] {
                let other = directory.appendingPathComponent(type).path
                let (result, _) = try run(CLIPaths.tinyModel("f32"), steps: 1, ["--save", other, "--save-type", type])
                #expect(result.status == 0, "\(result.transcript)")
                let generated = try runCLI(["generate", "--model", other + "/model.gguf", "--prompt", "a", "--max-tokens", "2"])
                #expect(generated.status == 0, "\(type): \(generated.transcript)")
            }
        }
    }

    @Test("bad input: one line on stderr and a non-zero exit")
    func badInput() throws {
        try withTemporaryDirectory { directory in
            let short = directory.appendingPathComponent("short.txt"), binary = directory.appendingPathComponent("bad.txt")
            try Data("hi there".utf8).write(to: short)
            try Data([0x61, 0x62, 0x63, 0xFF, 0xFE]).write(to: binary)
            let model = CLIPaths.tinyModel("q8_0")
            let base = ["train", "--model", model, "--data", CLIPaths.license, "--seq-len", "32", "--micro-batch", "2",
                        "--steps", "2", "--lr", "1e-3"]
            let cases: [([String], String)] = [
                (["train", "--model", model, "--data", short.path, "--seq-len", "32", "--micro-batch", "2", "--steps", "2",
                  "--lr", "1e-3"], "shorter than one sequence"),
                (["train", "--model", model, "--data", binary.path, "--seq-len", "32", "--micro-batch", "2", "--steps", "2",
                  "--lr", "1e-3"], "offset 3"),
                (base + ["--seq-len", "1000000"], "context"),
                (base + ["--tp", "64"], "query heads"),
                (base + ["--pp", "3"], "cannot place"),
                (base + ["--lr", "-1"], "--lr"),
                (base + ["--beta2", "1"], "--beta2"),
                (base + ["--warmup", "3"], "--warmup"),
                (base + ["--clip-norm", "-1"], "--clip-norm"),
                (base + ["--save-every", "1"], "--save"),
                (base + ["--resume", directory.path], "no training state"),
            ]
            for (arguments, needle) in cases {
                let result = try runCLI(arguments)
                #expect(result.status != 0 && !result.signaled, "\(arguments): \(result.transcript)")
                #expect(result.stderrLines.count == 1 && result.stderr.contains(needle), "\(arguments): \(result.stderr)")
            }
        }
    }

    @Test("bench train --json reports tokens/s and every rank")
    func benchTrain() throws {
        let result = try runCLI(["bench", "train", "--model", CLIPaths.tinyModel("q8_0"), "--seq-len", "32", "--micro-batch", "2",
                                 "--tp", "2", "--dp", "2", "--steps", "2", "--warmup-steps", "1", "--json"])
        #expect(result.status == 0, "\(result.transcript)")
        let report = try result.lastJSON()
        #expect(Self.number(report, "tokens_per_second") > 0 && Self.number(report, "steps") == 2)
        #expect((report["ranks"] as? [Any])?.count == 4)
    }
}

/// Training from Megatron's random initialisation (`--init random`).
@Suite("trident train --init random", .serialized,
       .enabled(if: CLIPaths.binary != nil && FileManager.default.fileExists(atPath: CLIPaths.license),
                "needs a built trident and models/LICENSE.txt"))
struct TrainRandomInitCLITests {
    @Test("the loss falls from about ln(vocabulary), and TP 2 equals one rank")
    func lossFallsAndLayoutsAgree() throws {
        func run(_ extra: [String]) throws -> [Double] {
            let result = try runCLI(["train", "--model", CLIPaths.tinyModel("q8_0"), "--data", CLIPaths.license, "--init", "random",
                                     "--seed", "9", "--seq-len", "32", "--micro-batch", "4", "--steps", "12", "--lr", "3e-3",
                                     "--json"] + extra, timeout: 300)
            #expect(result.status == 0, "\(result.transcript)")
            return result.stdout.split(separator: "\n").compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["loss"] as? Double
            }
        }
        let one = try run([]), two = try run(["--tp", "2"])
        #expect(one.count == 12 && two.count == 12)
        guard let first = one.first, let last = one.last else { return }
        #expect(abs(first - log(256)) < 0.1, "an std-0.02 model starts near uniform: \(first)")
        #expect(last < first - 0.5, "losses \(one)")
        for (a, b) in zip(one, two) { #expect(abs(a - b) <= 1e-5 * a) }
    }
}

@Suite("trident train --dropout", .serialized,
       .enabled(if: CLIPaths.binary != nil && FileManager.default.fileExists(atPath: CLIPaths.license),
                "needs a built trident and models/LICENSE.txt"))
struct TrainDropoutCLITests {
    @Test("dropout changes the losses, and its masks do not depend on the layout (TP 2 x DP 2 equals one rank)")
    func dropoutIsLayoutIndependent() throws {
        func run(_ extra: [String], microBatch: Int = 4) throws -> [Double] {
            let result = try runCLI(["train", "--model", CLIPaths.tinyModel("f32"), "--data", CLIPaths.license,
                                     "--seq-len", "32", "--micro-batch", String(microBatch), "--steps", "3", "--lr", "1e-3",
                                     "--seed", "4", "--json"] + extra, timeout: 300)
            #expect(result.status == 0, "\(result.transcript)")
            return result.stdout.split(separator: "\n").compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["loss"] as? Double
            }
        }
        let plain = try run([]), one = try run(["--dropout", "0.2"])
        let grid = try run(["--dropout", "0.2", "--tp", "2", "--dp", "2", "--accumulate", "2"], microBatch: 1)
        #expect(one.count == 3 && grid.count == 3 && plain.count == 3)
        #expect(zip(plain, one).allSatisfy { abs($0 - $1) > 1e-4 })
        for (a, b) in zip(one, grid) { #expect(abs(a - b) <= 1e-5 * a, "\(one) vs \(grid)") }
    }
}
