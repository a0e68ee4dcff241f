import Foundation
import Testing
import TridentCollectives

/// `trident train --pp 2 --backend mpi` (re-executed under `mpirun -np 2`) against one rank:
/// the same losses and gradient norms per step, and the same final weights (`--save`).
@Suite("trident train --pp under mpirun", .serialized,
       .enabled(if: CLIPaths.binary != nil && FileManager.default.fileExists(atPath: CLIPaths.license)
                    && MPISupport.isAvailable && CLIPaths.mpirunAvailable,
                "needs a trident built with --traits MPI, mpirun and models/LICENSE.txt"))
struct PipelineMPITrainCLITests {
    /// Each step's loss and grad_norm within 1e-5 relative of `one`'s (the TCP PP tests' tolerance).
    static func expectSameSteps(_ run: [[String: Any]], _ one: [[String: Any]], _ what: String) {
        #expect(run.count == one.count && !one.isEmpty, "\(what): \(run.count) steps, one rank \(one.count)")
        for (a, b) in zip(PipelineTrainCLITests.losses(run), PipelineTrainCLITests.losses(one)) {
            #expect(abs(a.0 - b.0) <= 1e-5 * b.0 && abs(a.1 - b.1) <= 1e-5 * b.1, "\(what): \(a) vs one rank \(b)")
        }
    }

    @Test("PP 2 (1F1B, --accumulate 2) under mpirun -np 2: same steps as one rank and the same saved weights (a step from each save gives the same loss within 1e-5)")
    func oneFOneBEqualsOneRank() throws {
        try withTemporaryDirectory { directory in
            let oneDir = directory.appendingPathComponent("one").path, mpiDir = directory.appendingPathComponent("mpi").path
            let one = try TrainCLITests.train(CLIPaths.tinyModel("f32"), ["--accumulate", "2", "--save", oneDir], microBatch: 1)
            #expect(one.result.status == 0, "\(one.result.transcript)")
            let run = try TrainCLITests.train(CLIPaths.tinyModel("f32"),
                                              ["--pp", "2", "--backend", "mpi", "--accumulate", "2", "--schedule", "1f1b",
                                               "--save", mpiDir], microBatch: 1)
            #expect(run.result.status == 0, "\(run.result.transcript)")
            Self.expectSameSteps(run.steps, one.steps, "mpi 1f1b")
            TrainCLITests.expectReference(run.steps, try TrainCLITests.reference("tiny-llama-f32"), "mpi pp 2 1f1b")
            #expect(run.summary["schedule"] as? String == "1f1b")
            #expect((run.summary["ranks"] as? [[String: Any]] ?? []).count == 2, "\(run.summary)")
            let fromOne = try TrainCLITests.train(oneDir + "/model.gguf", [], steps: 1)
            let fromMPI = try TrainCLITests.train(mpiDir + "/model.gguf", [], steps: 1)
            #expect(fromOne.result.status == 0 && fromMPI.result.status == 0, "\(fromMPI.result.transcript)")
            let x = TrainCLITests.number(fromOne.steps.first ?? [:], "loss")
            let y = TrainCLITests.number(fromMPI.steps.first ?? [:], "loss")
            #expect(abs(x - y) <= 1e-5 * x, "loss from the one-rank save \(x), from the MPI PP 2 save \(y)")
        }
    }

    @Test("PP 2 with GPipe and interleaved 1F1B (V=2, 6 blocks) under mpirun -np 2 print the same steps as one rank")
    func otherSchedulesEqualOneRank() throws {
        let one = try TrainCLITests.train(CLIPaths.tinyModel("f32"), ["--accumulate", "2"], steps: 3, microBatch: 1)
        let gpipe = try TrainCLITests.train(CLIPaths.tinyModel("f32"),
                                            ["--pp", "2", "--backend", "mpi", "--accumulate", "2", "--schedule", "gpipe"],
                                            steps: 3, microBatch: 1)
        #expect(one.result.status == 0 && gpipe.result.status == 0, "\(gpipe.result.transcript)")
        Self.expectSameSteps(gpipe.steps, one.steps, "mpi gpipe")
        let six = CLIPaths.tinyModel("6l-q8_0")
        let oneSix = try TrainCLITests.train(six, ["--accumulate", "2"], steps: 3, microBatch: 1)
        let interleaved = try TrainCLITests.train(six, ["--pp", "2", "--backend", "mpi", "--accumulate", "2", "--schedule",
                                                        "interleaved", "--virtual-stages", "2"], steps: 3, microBatch: 1)
        #expect(oneSix.result.status == 0 && interleaved.result.status == 0, "\(interleaved.result.transcript)")
        Self.expectSameSteps(interleaved.steps, oneSix.steps, "mpi interleaved")
    }

    @Test("1F1B with 64 KiB frames (over Open MPI's eager limit, so MPI_Send waits for its receive) and 4 micro-batches under mpirun -np 2 runs and equals one rank")
    func rendezvousFramesEqualOneRank() throws {
        func run(_ extra: [String]) throws -> (steps: [[String: Any]], result: CLIResult) {
            let result = try runCLI(["train", "--model", CLIPaths.tinyModel("f32"), "--data", CLIPaths.license, "--seq-len", "128",
                                     "--micro-batch", "2", "--accumulate", "4", "--steps", "2", "--lr", "1e-4", "--json"] + extra,
                                    timeout: 300)
            let objects = result.stdout.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            return (objects.filter { $0["step"] != nil }, result)
        }
        let one = try run([])
        let mpi = try run(["--pp", "2", "--backend", "mpi", "--schedule", "1f1b"])
        #expect(one.result.status == 0 && mpi.result.status == 0, "\(mpi.result.transcript)")
        #expect(one.steps.count == 2)
        Self.expectSameSteps(mpi.steps, one.steps, "mpi 1f1b, 64 KiB frames")
    }
}
