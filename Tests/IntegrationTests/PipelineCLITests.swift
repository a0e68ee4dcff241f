import Foundation
import Testing
import TridentCollectives

/// `--pp`, `--dp`, `--pipeline-layers` and `--prompts-file` through the CLI, across processes.
@Suite("CLI: pipeline, data and hybrid parallelism", .enabled(if: CLIPaths.binary != nil, "needs the trident binary"))
struct PipelineCLITests {
    /// 6 blocks, 6 heads / 2 KV heads: deep enough for 2, 3 and 6 stages.
    static let model = CLIPaths.tinyModel("6l-q8_0")
    static let prompt = "Pipelines pass activations, stage by stage: 0123456789."

    static func generate(_ extra: [String], environment: [String: String] = [:], timeout: Double = 120) throws -> CLIResult {
        try runCLI(["generate", "--model", model, "--prompt", prompt, "--max-tokens", "12", "--ignore-eos",
                    "--threads", "1", "--json"] + extra, environment: environment, timeout: timeout)
    }

    @Test("generate over TCP processes gives the single-rank ids, one stats entry per rank",
          arguments: [["--pp", "2"], ["--pp", "3", "--pipeline-layers", "1,4,1"], ["--tp", "2", "--pp", "2", "--dp", "2"],
                      ["--tp", "3", "--pp", "2"]])
    func generateOverTCP(grid: [String]) throws {
        let single = try Self.generate([])
        let fixture = try oracleFixture("tiny-6l-q8_0.pipe")
        let expected = try single.lastJSON()
        #expect(jsonInts(expected["tokens"]).prefix(10) == jsonInts(fixture["greedy"]).prefix(10)[...])
        let result = try Self.generate(grid + ["--backend", "tcp"])
        #expect(result.status == 0, "\(result.transcript)")
        let report = try result.lastJSON()
        #expect(jsonInts(report["tokens"]) == jsonInts(expected["tokens"]), "\(grid)")
        #expect(report["text"] as? String == expected["text"] as? String)
        let world = stride(from: 1, to: grid.count, by: 2).filter { ["--tp", "--pp", "--dp"].contains(grid[$0 - 1]) }
            .map { Int(grid[$0])! }.reduce(1, *)
        let ranks = report["ranks"] as? [[String: Any]] ?? []
        #expect(ranks.count == world)
        // One prompt lives in one slot, so replica 0 serves it and any other replica idles.
        for rank in ranks {
            let busy = rank["busy_fraction"] as? Double ?? -1
            #expect(rank["dp"] as? Int == 0 ? busy > 0 : busy == 0, "\(rank)")
        }
    }

    @Test("--prompts-file --json prints one line per prompt, in file order, equal to one rank",
          arguments: [["--pp", "2", "--dp", "2", "--backend", "tcp"], ["--pp", "3", "--backend", "local"]])
    func promptsFile(grid: [String]) throws {
        try withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("prompts.txt")
            let prompts = ["Pipelines pass", "", "activations stage by stage", "0123", "Hello, tiny llama!", "x"]
            try prompts.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
            func run(_ extra: [String]) throws -> [[String: Any]] {
                let result = try runCLI(["generate", "--model", Self.model, "--prompts-file", file.path, "--max-tokens", "8",
                                         "--ignore-eos", "--threads", "1", "--json"] + extra)
                #expect(result.status == 0, "\(result.transcript)")
                return result.stdout.split(separator: "\n").compactMap {
                    try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
                }
            }
            let single = try run([])
            let grid = try run(grid)
            #expect(single.count == 5 && grid.count == 5)
            #expect(grid.map { $0["index"] as? Int } == [0, 1, 2, 3, 4])
            #expect(grid.map { jsonInts($0["tokens"]) } == single.map { jsonInts($0["tokens"]) })
            #expect(grid.map { jsonInts($0["prompt_tokens"]).count } == [14, 26, 4, 18, 1])
        }
    }

    @Test("perplexity with --pp 2 --dp 2 over TCP equals one rank")
    func perplexity() throws {
        try withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("text.txt")
            try String(repeating: Self.prompt + " ", count: 6).write(to: file, atomically: true, encoding: .utf8)
            func run(_ extra: [String]) throws -> Double {
                let result = try runCLI(["perplexity", "--model", Self.model, "--file", file.path, "--context", "32",
                                         "--threads", "1", "--json"] + extra)
                #expect(result.status == 0, "\(result.transcript)")
                return try result.lastJSON()["perplexity"] as? Double ?? -1
            }
            let single = try run([])
            #expect(single > 1)
            #expect(try run(["--pp", "2", "--dp", "2", "--backend", "tcp"]) == single)
        }
    }

    @Test("a grid that does not fit is refused before any rank starts, with the reason",
          arguments: [(["--pp", "7"], "exceeds the model's 6 blocks"),
                      (["--pp", "3", "--pipeline-layers", "2,2,1"], "adds up to 5 blocks but the model has 6"),
                      (["--pp", "2", "--pipeline-layers", "2,2,2"], "lists 3 stages but the pipeline has 2"),
                      (["--tp", "7", "--pp", "2"], "exceeds the model's 6 query heads"),
                      (["--pipeline-layers", "3,3"], "needs --pp 2 or more"),
                      (["--dp", "0"], "--dp")])
    func refused(arguments: [String], reason: String) throws {
        let result = try Self.generate(arguments + ["--backend", "tcp"], timeout: 30)
        CLITests.expectCleanFailure(result, mentioning: [reason])
        #expect(!result.stderr.contains("[rank"), "no rank should have started:\n\(result.stderr)")
        #expect(result.seconds < 10)
    }

    @Test("a pipeline stage dying mid-generation (tcp) stops the run within 10 s, naming it")
    func deadStage() throws {
        let result = try runCLI(["generate", "--model", Self.model, "--prompt", Self.prompt, "--max-tokens", "2000",
                                 "--ignore-eos", "--pp", "3", "--backend", "tcp", "--threads", "1"],
                                environment: ["TRIDENT_TEST_KILL_RANK": "1", "TRIDENT_TEST_KILL_AFTER_STEPS": "5"],
                                timeout: 60)
        #expect(result.status != 0 && !result.signaled, "\(result.transcript)")
        #expect(result.seconds < 10, "took \(result.seconds) s")
        #expect(result.stderr.contains("rank 1"), "\(result.transcript)")
    }

    @Test("bench model --prompts 4 --pp 2 reports aggregate rates, the predicted bubble of its schedule and per-rank busy time",
          arguments: [("overlapped", 0.0), ("gpipe", 1.0 / 3)])
    func bench(schedule: String, bubble: Double) throws {
        let result = try runCLI(["bench", "model", "--model", Self.model, "--prompts", "4", "--pp", "2", "--backend", "tcp",
                                 "--threads", "1", "--prompt-tokens", "16", "--decode-tokens", "8", "--repetitions", "1",
                                 "--schedule", schedule, "--json"])
        #expect(result.status == 0, "\(result.transcript)")
        let report = try result.lastJSON()
        #expect(report["pp"] as? Int == 2 && report["prompts"] as? Int == 4 && report["micro_batches_per_step"] as? Int == 2)
        #expect(report["schedule"] as? String == schedule)
        // gpipe: 4 sequences fused into 2 micro-batches, (P-1)/(M+P-1) = 1/3; overlapped: 2 groups keep 2 stages busy.
        #expect(abs((report["predicted_bubble"] as? Double ?? -1) - bubble) < 1e-12)
        #expect((report["decode_tokens_per_second"] as? Double ?? 0) > 0)
        let ranks = report["ranks"] as? [[String: Any]] ?? []
        #expect(ranks.map { $0["pp"] as? Int } == [0, 1])
        for rank in ranks {
            let busy = rank["busy_fraction"] as? Double ?? -1, idle = rank["idle_fraction"] as? Double ?? -1
            #expect(busy > 0 && busy <= 1 && abs(busy + idle - 1) < 1e-9)
        }
    }
}

/// The same through `mpirun`.
@Suite("CLI: pipeline and data parallelism under mpirun",
       .enabled(if: MPISupport.isAvailable && CLIPaths.binary != nil && CLIPaths.mpirunAvailable,
                "needs --traits MPI, mpirun and the trident binary"))
struct PipelineMPITests {
    @Test("generate --pp 2 --dp 2 --backend mpi gives the single-rank ids")
    func generate() throws {
        let single = try PipelineCLITests.generate([]).lastJSON()
        let result = try PipelineCLITests.generate(["--pp", "2", "--dp", "2", "--backend", "mpi"])
        #expect(result.status == 0, "\(result.transcript)")
        #expect(jsonInts(try result.lastJSON()["tokens"]) == jsonInts(single["tokens"]))
    }
}

extension CLIPaths {
    /// `mpirun` on the PATH.
    static var mpirunAvailable: Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/mpirun") }
    }
}
