import Foundation
import Testing
import TridentCollectives

/// `mpirun` on the PATH, if any.
private let mpirun: String? = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin")
    .split(separator: ":").map { "\($0)/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }

/// `trident train --zero 1` and `trident bench train --zero 1` as a user runs them, on the tiny
/// f32 fixture: the same losses as plain data parallelism on every backend, moments halved per
/// rank, checkpoints that resume with ZeRO-1 on or off at another DP.
@Suite("trident train --zero", .serialized,
       .enabled(if: CLIPaths.binary != nil && FileManager.default.fileExists(atPath: CLIPaths.license),
                "needs a built trident and models/LICENSE.txt"))
struct ZeroCLITests {
    static let common = ["--seq-len", "32", "--micro-batch", "1", "--global-batch", "4", "--lr", "1e-3", "--shuffle",
                         "--clip-norm", "1", "--weight-decay", "0.1", "--bucket-mb", "1", "--threads", "1", "--json"]

    /// A run's (loss, grad_norm) by step, and the result.
    static func train(_ extra: [String], steps: Int) throws -> (steps: [Int: (Double, Double)], result: CLIResult) {
        let result = try runCLI(["train", "--model", CLIPaths.tinyModel("f32"), "--data", CLIPaths.license,
                                 "--steps", String(steps)] + common + extra, timeout: 300)
        var out: [Int: (Double, Double)] = [:]
        for line in result.stdout.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let step = (object["step"] as? NSNumber)?.intValue, let loss = (object["loss"] as? NSNumber)?.doubleValue,
                  let norm = (object["grad_norm"] as? NSNumber)?.doubleValue else { continue }
            out[step] = (loss, norm)
        }
        return (out, result)
    }

    static func expectSame(_ a: [Int: (Double, Double)], _ b: [Int: (Double, Double)], steps: [Int], tolerance: Double,
                           _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.keys.sorted() == steps, "\(what): steps \(a.keys.sorted())", sourceLocation: sourceLocation)
        for step in steps {
            let (x, y) = (a[step] ?? (.nan, .nan), b[step] ?? (.nan, .nan))
            #expect(abs(x.0 - y.0) <= tolerance * y.0, "\(what) step \(step): loss \(x.0) vs \(y.0)", sourceLocation: sourceLocation)
            #expect(abs(x.1 - y.1) <= tolerance * y.1, "\(what) step \(step): grad norm \(x.1) vs \(y.1)", sourceLocation: sourceLocation)
        }
    }

    @Test("--zero 2 (and --zero x) are refused with a one-line error naming --zero, on train and bench train")
    func badStageRefused() throws {
        for value in ["2", "x", "-1"] {
            let train = try runCLI(["train", "--model", CLIPaths.tinyModel("f32"), "--data", CLIPaths.license, "--steps", "1",
                                    "--dp", "2", "--zero", value] + Self.common)
            #expect(train.status != 0 && train.stderr.contains("--zero"), "\(train.transcript)")
            let bench = try runCLI(["bench", "train", "--model", CLIPaths.tinyModel("f32"), "--dp", "2", "--zero", value])
            #expect(bench.status != 0 && bench.stderr.contains("--zero"), "\(bench.transcript)")
        }
    }

    @Test("--dp 2 --zero 1 gives plain --dp 2's losses and grad norms over TCP (and MPI when built with it)")
    func sameAsPlain() throws {
        var backends = ["tcp"]
        if MPISupport.isAvailable && mpirun != nil { backends.append("mpi") }
        for backend in backends {
            let plain = try Self.train(["--dp", "2", "--backend", backend, "--zero", "0"], steps: 3)
            let zero = try Self.train(["--dp", "2", "--backend", backend, "--zero", "1"], steps: 3)
            #expect(plain.result.status == 0 && zero.result.status == 0, "\(plain.result.transcript)\n\(zero.result.transcript)")
            Self.expectSame(zero.steps, plain.steps, steps: [1, 2, 3], tolerance: 1e-6, backend)
        }
    }

    @Test("saved with --zero 1 at --dp 2, resumed at --dp 1 without it (and the reverse): the next steps equal the uninterrupted run")
    func checkpointReshard() throws {
        try withTemporaryDirectory { directory in
            let zeroRoot = directory.appendingPathComponent("zero").path
            let saved = try Self.train(["--dp", "2", "--zero", "1", "--backend", "tcp", "--save", zeroRoot, "--save-every", "2"], steps: 4)
            #expect(saved.result.status == 0, "\(saved.result.transcript)")
            let manifest = try String(contentsOfFile: zeroRoot + "/step-2/manifest.json", encoding: .utf8)
            #expect(manifest.contains("\"zeroStage\" : 1"), "\(manifest.prefix(600))")
            let resumed = try Self.train(["--resume", zeroRoot + "/step-2"], steps: 4)
            #expect(resumed.result.status == 0 && resumed.result.stderr.contains("--zero 1, now"), "\(resumed.result.transcript)")
            Self.expectSame(resumed.steps, saved.steps, steps: [3, 4], tolerance: 1e-5, "ZeRO DP2 -> DP1")

            let plainRoot = directory.appendingPathComponent("plain").path
            let flat = try Self.train(["--save", plainRoot, "--save-every", "2"], steps: 4)
            #expect(flat.result.status == 0, "\(flat.result.transcript)")
            let onZero = try Self.train(["--dp", "2", "--zero", "1", "--backend", "tcp", "--resume", plainRoot + "/step-2"], steps: 4)
            #expect(onZero.result.status == 0, "\(onZero.result.transcript)")
            Self.expectSame(onZero.steps, flat.steps, steps: [3, 4], tolerance: 1e-5, "DP1 -> ZeRO DP2")
        }
    }

    @Test("bench train --dp 2 --zero 1 reports half the optimizer-state bytes per rank of --zero 0")
    func benchReportsState() throws {
        func ranks(_ zero: String) throws -> [[String: Any]] {
            let result = try runCLI(["bench", "train", "--model", CLIPaths.tinyModel("f32"), "--dp", "2", "--zero", zero,
                                     "--seq-len", "16", "--micro-batch", "1", "--steps", "1", "--warmup-steps", "0",
                                     "--threads", "1", "--json"], timeout: 300)
            #expect(result.status == 0, "\(result.transcript)")
            return try result.lastJSON()["ranks"] as? [[String: Any]] ?? []
        }
        let bytes = { (ranks: [[String: Any]]) in ranks.map { ($0["optimizer_state_bytes"] as? NSNumber)?.intValue ?? -1 } }
        let plain = bytes(try ranks("0")), zero = bytes(try ranks("1"))
        #expect(plain.count == 2 && zero.count == 2 && plain[0] == plain[1] && plain[0] > 0, "\(plain)")
        #expect(zero.reduce(0, +) == plain[0], "ZeRO-1 moments \(zero) add up to one replica's \(plain[0])")
        #expect(zero.allSatisfy { abs($0 - plain[0] / 2) <= 8 * 64 }, "\(zero) vs \(plain[0] / 2)")
    }
}
