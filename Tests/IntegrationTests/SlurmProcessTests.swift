import Foundation
import Testing

/// Processes started as `srun` starts them: no launcher and no RANK, only Slurm's variables
/// (set here by the test; no slurmd needed). They must form one job from those variables.
@Suite("Slurm-started processes", .serialized, .enabled(if: tridentBinary != nil, "needs the trident binary"))
struct SlurmProcessTests {
    /// What srun gives task `rank` of a `size`-task step of job `job` on one node, plus MASTER_PORT.
    static func srunVariables(rank: Int, size: Int, job: String, port: Int) -> [String: String] {
        ["SLURM_PROCID": String(rank), "SLURM_NTASKS": String(size), "SLURM_LOCALID": String(rank),
         "SLURM_STEP_ID": "0", "SLURM_JOB_ID": job, "SLURM_JOB_NODELIST": "localhost,node[02-03]",
         "MASTER_PORT": String(port)]
    }

    @Test("two collective-selftest tasks with SLURM_* set form a job of 2 (secret derived from the job id)")
    func selfTest() throws {
        let port = ServeCLITests.freePort(), job = String(Int.random(in: 100_000...999_999))
        let tasks = try (0..<2).map { rank in
            try Child(tridentBinary!, ["collective-selftest", "--counts", "1,4097"],
                      environment: Self.srunVariables(rank: rank, size: 2, job: job, port: port))
        }
        let results = tasks.map { $0.finish(timeout: 60) }
        for (rank, result) in results.enumerated() {
            #expect(result.status == 0, "task \(rank): \(result.output)")
            #expect(result.output.contains("selftest ok: rank \(rank) of 2"), "task \(rank): \(result.output)")
        }
    }

    @Test("trident train --tp 2 --backend tcp as two srun tasks equals the one-rank run (1e-4 relative)",
          .enabled(if: FileManager.default.fileExists(atPath: CLIPaths.license), "needs models/LICENSE.txt"))
    func train() throws {
        let common = ["train", "--model", CLIPaths.tinyModel("f32"), "--data", CLIPaths.license, "--seq-len", "32",
                      "--micro-batch", "2", "--steps", "3", "--lr", "1e-3", "--json"]
        let single = try runChild(tridentBinary!, common, timeout: 300)
        let port = ServeCLITests.freePort(), job = String(Int.random(in: 100_000...999_999))
        let tasks = try (0..<2).map { rank in
            try Child(tridentBinary!, common + ["--tp", "2", "--backend", "tcp"],
                      environment: Self.srunVariables(rank: rank, size: 2, job: job, port: port))
        }
        let results = tasks.map { $0.finish(timeout: 300) }
        #expect(single.status == 0 && results.allSatisfy { $0.status == 0 }, "\(results.map(\.output))")
        let expected = Self.steps(single.output), found = Self.steps(results[0].output)
        #expect(expected.count == 3 && found.count == 3, "\(results[0].output)")
        for (a, b) in zip(expected, found) {
            for key in ["loss", "grad_norm"] {
                let x = TrainCLITests.number(a, key), y = TrainCLITests.number(b, key)
                #expect(abs(x - y) <= 1e-4 * abs(x), "step \(a["step"] ?? "?") \(key): one rank \(x), two srun tasks \(y)")
            }
        }
        #expect(Self.steps(results[1].output).isEmpty, "only rank 0 prints the steps")
    }

    /// The `--json` step lines of an output.
    static func steps(_ output: String) -> [[String: Any]] {
        output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["step"] != nil }
    }
}
