import Foundation
import Testing

/// `trident train --save/--resume` with sharded checkpoints, `trident export` and
/// `generate --model CKPT_DIR`, driven as a user would on the tiny f32 fixture.
@Suite("trident checkpoints", .serialized,
       .enabled(if: CLIPaths.binary != nil && FileManager.default.fileExists(atPath: CLIPaths.license),
                "needs a built trident and models/LICENSE.txt"))
struct CheckpointCLITests {
    static let common = ["--seq-len", "32", "--micro-batch", "1", "--global-batch", "4", "--lr", "1e-3", "--shuffle",
                         "--clip-norm", "1", "--weight-decay", "0.1", "--json"]

    static func train(_ extra: [String], steps: Int) throws -> (losses: [Int: Double], result: CLIResult) {
        let result = try runCLI(["train", "--model", CLIPaths.tinyModel("f32"), "--data", CLIPaths.license,
                                 "--steps", String(steps)] + common + extra, timeout: 300)
        var losses: [Int: Double] = [:]
        for line in result.stdout.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let step = (object["step"] as? NSNumber)?.intValue, let loss = (object["loss"] as? NSNumber)?.doubleValue else { continue }
            losses[step] = loss
        }
        return (losses, result)
    }

    @Test("TP2 x DP2 saves step-2 and step-4; export equals model.gguf; generate runs the checkpoint; DP1 resumes with the same losses")
    func saveExportGenerateReshard() throws {
        try withTemporaryDirectory { directory in
            let root = directory.appendingPathComponent("ck").path
            let saved = try Self.train(["--tp", "2", "--dp", "2", "--save", root, "--save-every", "2"], steps: 4)
            #expect(saved.result.status == 0, "\(saved.result.transcript)")
            for step in [2, 4] { #expect(FileManager.default.fileExists(atPath: root + "/step-\(step)/manifest.json")) }
            #expect((try? String(contentsOfFile: root + "/latest", encoding: .utf8)) == "step-4\n")
            let exported = directory.appendingPathComponent("out.gguf").path
            let export = try runCLI(["export", root, exported])
            #expect(export.status == 0, "\(export.transcript)")
            #expect(FileManager.default.contents(atPath: exported) == FileManager.default.contents(atPath: root + "/model.gguf"))
            // quantize reads the checkpoint as export merges it.
            let fromCheckpoint = directory.appendingPathComponent("ck-q8_0.gguf").path
            let fromExport = directory.appendingPathComponent("out-q8_0.gguf").path
            for (input, output) in [(root, fromCheckpoint), (exported, fromExport)] {
                let quantized = try runCLI(["quantize", input, output, "--type", "q8_0", "--quiet"])
                #expect(quantized.status == 0, "\(quantized.transcript)")
            }
            #expect(FileManager.default.contents(atPath: fromCheckpoint) == FileManager.default.contents(atPath: fromExport))
            let generated = try runCLI(["generate", "--model", root, "--prompt", "The license", "--max-tokens", "4", "--json"])
            #expect(generated.status == 0, "\(generated.transcript)")
            let empty = directory.appendingPathComponent("empty").path
            try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
            let refused = try runCLI(["generate", "--model", empty, "--prompt", "a"])
            #expect(refused.status != 0 && refused.stderr.contains("config.json") && refused.stderr.contains("manifest.json"),
                    "\(refused.stderr)")
            // DP 1 from step 2 of the DP 2 run: --global-batch 4 gives accumulate 4, the same batches.
            let resumed = try Self.train(["--resume", root + "/step-2"], steps: 4)
            #expect(resumed.result.status == 0, "\(resumed.result.transcript)")
            #expect(resumed.losses.keys.sorted() == [3, 4])
            for step in [3, 4] {
                let a = resumed.losses[step] ?? .nan, b = saved.losses[step] ?? .nan
                #expect(abs(a - b) <= 1e-5 * b, "step \(step): resumed \(a), uninterrupted \(b)")
            }
            let otherBatch = try Self.train(["--resume", root, "--global-batch", "2"], steps: 5)
            #expect(otherBatch.result.status != 0 && otherBatch.result.stderr.contains("global batch"), "\(otherBatch.result.stderr)")
        }
    }

    @Test("saved at PP2 over TCP, resumed at PP1 and at TP2: the next steps equal the uninterrupted PP2 run; PP1 resumes at PP2 too")
    func pipelineReshard() throws {
        try withTemporaryDirectory { directory in
            let root = directory.appendingPathComponent("pp").path
            let pipelined = ["--pp", "2", "--backend", "tcp", "--threads", "1"]
            let saved = try Self.train(pipelined + ["--save", root, "--save-every", "2"], steps: 4)
            #expect(saved.result.status == 0, "\(saved.result.transcript)")
            for layout in [[String](), ["--tp", "2", "--backend", "tcp", "--threads", "1"]] {
                let resumed = try Self.train(layout + ["--resume", root + "/step-2"], steps: 4)
                #expect(resumed.result.status == 0, "\(resumed.result.transcript)")
                #expect(resumed.losses.keys.sorted() == [3, 4], "\(layout)")
                for step in [3, 4] {
                    let a = resumed.losses[step] ?? .nan, b = saved.losses[step] ?? .nan
                    #expect(abs(a - b) <= 1e-5 * b, "\(layout) step \(step): resumed \(a), uninterrupted \(b)")
                }
            }
            let flatRoot = directory.appendingPathComponent("flat").path
            let flat = try Self.train(["--save", flatRoot, "--save-every", "2"], steps: 4)
            #expect(flat.result.status == 0, "\(flat.result.transcript)")
            let onPipeline = try Self.train(pipelined + ["--resume", flatRoot + "/step-2"], steps: 4)
            #expect(onPipeline.result.status == 0, "\(onPipeline.result.transcript)")
            for step in [3, 4] {
                let a = onPipeline.losses[step] ?? .nan, b = flat.losses[step] ?? .nan
                #expect(abs(a - b) <= 1e-5 * b, "PP1 -> PP2 step \(step): resumed \(a), uninterrupted \(b)")
            }
        }
    }

    @Test("a damaged file: --resume DIR exits non-zero naming it, --resume auto skips to the previous checkpoint")
    func damagedCheckpoint() throws {
        try withTemporaryDirectory { directory in
            let root = directory.appendingPathComponent("ck").path
            let saved = try Self.train(["--tp", "2", "--save", root, "--save-every", "2"], steps: 4)
            #expect(saved.result.status == 0, "\(saved.result.transcript)")
            let file = root + "/step-4/rank-00001.safetensors"
            var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            bytes[bytes.count - 5] ^= 0x10
            try bytes.write(to: URL(fileURLWithPath: file))
            let explicit = try Self.train(["--resume", root], steps: 6)
            #expect(explicit.result.status != 0 && explicit.result.stderr.contains(file), "\(explicit.result.stderr)")
            let auto = try Self.train(["--tp", "2", "--save", root, "--resume", "auto"], steps: 6)
            #expect(auto.result.status == 0, "\(auto.result.transcript)")
            #expect(auto.result.stderr.contains("skipping") && auto.result.stderr.contains("resumed from \(root)/step-2"),
                    "\(auto.result.stderr)")
            #expect(auto.losses.keys.sorted() == [3, 4, 5, 6])
            #expect(abs((auto.losses[3] ?? .nan) - (saved.losses[3] ?? .nan)) <= 1e-6 * (saved.losses[3] ?? 1))
        }
    }
}
