import Foundation
import Testing

/// `trident plan` spells training options as `trident train` does, and reads `bench train --json`
/// measurements back (`plan --mode training --measure FILE`).
@Suite("plan: train's spellings and training measurements")
struct PlanTrainingCLITests {
    static let plan = ["plan", "--model", "smollm2-135m", "--mode", "training", "--devices", "2",
                       "--configurations", "1x1x2", "--json"]

    static func json(_ result: CLIResult) throws -> [String: Any] {
        #expect(result.status == 0, "\(result.transcript)")
        guard let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            throw CLITestError.noJSON(result.transcript)
        }
        return object
    }

    /// The one configuration's memory breakdown of a `plan --json`.
    static func memory(_ plan: [String: Any]) -> [String: Double] {
        let configuration = (plan["configurations"] as? [[String: Any]])?.first ?? [:]
        let memory = configuration["memory"] as? [String: Any] ?? [:]
        return memory.compactMapValues { ($0 as? NSNumber)?.doubleValue }
    }

    @Test("--seq-len and --zero 1 equal the aliases --sequence-length and --zero1; each takes effect; bad values are refused")
    func aliases() throws {
        let new = try runCLI(Self.plan + ["--seq-len", "512", "--zero", "1", "--recompute"])
        let old = try runCLI(Self.plan + ["--sequence-length", "512", "--zero1", "--recompute"])
        _ = try Self.json(new)
        #expect(new.stdout == old.stdout, "\(old.transcript)")
        let sharded = Self.memory(try Self.json(new))
        let shorter = Self.memory(try Self.json(try runCLI(Self.plan + ["--seq-len", "256", "--zero", "1", "--recompute"])))
        let unsharded = Self.memory(try Self.json(try runCLI(Self.plan + ["--seq-len", "512", "--zero", "0", "--recompute"])))
        let kept = Self.memory(try Self.json(try runCLI(Self.plan + ["--seq-len", "512", "--zero", "1"])))
        #expect(sharded["activations"]! == 2 * shorter["activations"]!, "--seq-len 512 vs 256: \(sharded) \(shorter)")
        #expect(unsharded["optimizer_states"]! == 2 * sharded["optimizer_states"]!, "--zero 0 vs 1 on DP 2")
        #expect(kept["activations"]! > 3 * sharded["activations"]!, "--recompute keeps only block inputs")
        for bad in [["--zero", "2"], ["--zero", "-1"], ["--zero", "0", "--zero1"], ["--seq-len", "0"]] {
            let result = try runCLI(Self.plan + bad)
            #expect(result.status != 0 && result.stderrLines.count == 1, "\(bad): \(result.transcript)")
        }
    }

    @Test("train --recompute (1 rank and --pp 2): every step's loss and grad_norm bit-equal to the run without")
    func trainRecompute() throws {
        let model = CLIPaths.tinyModel("f32")
        for layout in [[], ["--pp", "2", "--accumulate", "2"]] {
            let kept = try TrainCLITests.train(model, layout, steps: 3)
            let recomputed = try TrainCLITests.train(model, layout + ["--recompute"], steps: 3)
            #expect(kept.result.status == 0 && recomputed.result.status == 0, "\(recomputed.result.transcript)")
            #expect(kept.steps.count == 3 && recomputed.steps.count == 3)
            for (a, b) in zip(kept.steps, recomputed.steps) {
                for key in ["loss", "grad_norm"] {
                    #expect(TrainCLITests.number(a, key) == TrainCLITests.number(b, key), "\(layout) \(key): \(a) vs \(b)")
                }
            }
            #expect(recomputed.summary["recompute"] as? Bool == true && kept.summary["recompute"] as? Bool == false)
        }
    }

    @Test("bench train --json (1 rank, --recompute, PP 2) fed to plan --measure: read back, saved activations as predicted")
    func measurementRoundTrip() throws {
        let model = CLIPaths.tinyModel("f32")
        let bench = ["bench", "train", "--model", model, "--seq-len", "32", "--micro-batch", "2", "--accumulate", "2",
                     "--steps", "1", "--warmup-steps", "0", "--json"]
        var lines: [String] = [], reports: [[String: Any]] = []
        for extra in [[], ["--recompute"], ["--pp", "2", "--recompute"]] {
            let result = try runCLI(bench + extra)
            #expect(result.status == 0, "\(result.transcript)")
            reports.append(try result.lastJSON())
            lines.append(result.stdout.split(separator: "\n").last.map(String.init) ?? "")
        }
        try withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("runs.jsonl")
            try Data((["not a run"] + lines).joined(separator: "\n").utf8).write(to: file)
            let plan = try Self.json(try runCLI(["plan", "--model", model, "--mode", "training", "--measure", file.path, "--json"]))
            let measurements = plan["measurements"] as? [[String: Any]] ?? []
            #expect(measurements.count == 3)
            for (m, report) in zip(measurements, reports) {
                let measured = m["measured"] as? [String: Any] ?? [:], predicted = m["predicted"] as? [String: Any] ?? [:]
                #expect(m["recompute"] as? Bool == report["recompute"] as? Bool && m["pp"] as? Int == report["pp"] as? Int)
                #expect(TrainCLITests.number(measured, "tokens_per_second") == TrainCLITests.number(report, "tokens_per_second"))
                let ranks = report["ranks"] as? [[String: Any]] ?? []
                let peak = ranks.map { TrainCLITests.number($0, "peak_activation_bytes") }.max() ?? .nan
                #expect(peak > 0 && TrainCLITests.number(measured, "peak_activation_bytes") == peak)
                // The planner's trident accounting counts exactly the buffers the layers keep.
                #expect(TrainCLITests.number(predicted, "peak_activation_bytes") == peak, "\(m)")
                // Float32 training: gradients as large as the weights, two moments twice that.
                let memory = (predicted["memory"] as? [String: Any] ?? [:]).compactMapValues { ($0 as? NSNumber)?.doubleValue }
                #expect(memory["weights"]! > 0 && memory["gradients"] == memory["weights"]
                        && memory["optimizer_states"] == 2 * memory["weights"]!, "\(memory)")
            }
            let kept = TrainCLITests.number(measurements[0]["measured"] as? [String: Any] ?? [:], "peak_activation_bytes")
            let recomputed = TrainCLITests.number(measurements[1]["measured"] as? [String: Any] ?? [:], "peak_activation_bytes")
            #expect(recomputed < kept)
            let text = try runCLI(["plan", "--model", model, "--mode", "training", "--measure", file.path])
            #expect(text.status == 0 && text.stdout.contains("Predicted vs measured training"), "\(text.transcript)")
            let inference = try runCLI(["plan", "--model", model, "--measure", file.path])
            #expect(inference.status != 0 && inference.stderrLines.count == 1, "\(inference.transcript)")
        }
    }
}
