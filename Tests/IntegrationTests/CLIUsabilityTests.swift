import Foundation
import Testing

/// The rough edges a new user meets: aliases, --version, tokenize inputs, logging,
/// JSON through the encoder.
@Suite("CLI usability", .serialized, .enabled(if: CLIPaths.binary != nil, "needs a built trident"))
struct CLIUsabilityTests {
    static let tiny = CLIPaths.tinyModel("q8_0")

    @Test("llama.cpp and vLLM spellings give the same output as the canonical flags")
    func aliases() throws {
        let canonical = try runCLI(["generate", "--model", Self.tiny, "--prompt", "Hello", "--max-tokens", "6",
                                    "--temperature", "0.7", "--threads", "1", "--tp", "2", "--pp", "1", "--json"])
        let shortSpellings = try runCLI(["generate", "-m", Self.tiny, "-p", "Hello", "-n", "6", "--temp", "0.7", "-t", "1",
                                         "-tp", "2", "-pp", "1", "--json"])
        let vllm = try runCLI(["generate", "--model", Self.tiny, "--prompt", "Hello", "--max-tokens", "6",
                               "--temperature", "0.7", "--threads", "1", "--tensor-parallel-size", "2",
                               "--pipeline-parallel-size", "1", "--json"])
        #expect(canonical.status == 0, "\(canonical.transcript)")
        let ids = jsonInts(try canonical.lastJSON()["tokens"])
        #expect(ids.count == 6)
        #expect(jsonInts(try shortSpellings.lastJSON()["tokens"]) == ids, "\(shortSpellings.transcript)")
        #expect(jsonInts(try vllm.lastJSON()["tokens"]) == ids, "\(vllm.transcript)")
    }

    @Test("--version prints one version line")
    func version() throws {
        let result = try runCLI(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.split(separator: "\n").count == 1 && result.stdout.first?.isNumber == true)
    }

    @Test("tokenize: argument, --text, --file and '--' agree; a text may start with '-'")
    func tokenizeInputs() throws {
        try withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("text.txt")
            try Data("-dash text".utf8).write(to: file)
            let byFile = try runCLI(["tokenize", "--model", Self.tiny, "--file", file.path])
            let byOption = try runCLI(["tokenize", "--model", Self.tiny, "--text", "-dash text"])
            let afterTerminator = try runCLI(["tokenize", "--model", Self.tiny, "--", "-dash text"])
            #expect(byFile.status == 0 && !byFile.stdout.isEmpty, "\(byFile.transcript)")
            #expect(byOption.stdout == byFile.stdout, "\(byOption.transcript)")
            #expect(afterTerminator.stdout == byFile.stdout, "\(afterTerminator.transcript)")
        }
    }

    @Test("--log-level info: each rank's load and shard as a rank-prefixed record; default: no records")
    func logging() throws {
        let logged = try runCLI(["generate", "--model", Self.tiny, "--prompt", "Hi", "--max-tokens", "2", "--tp", "2",
                                 "--log-level", "info"])
        #expect(logged.status == 0, "\(logged.transcript)")
        for rank in 0..<2 {
            #expect(logged.stderrLines.contains { $0.hasPrefix("[rank \(rank)] ") && $0.contains(" info trident.engine: loaded shard") },
                    "\(logged.transcript)")
        }
        let quiet = try runCLI(["generate", "--model", Self.tiny, "--prompt", "Hi", "--max-tokens", "2", "--tp", "2"])
        #expect(quiet.status == 0 && quiet.stderrLines.isEmpty, "\(quiet.transcript)")
        let environment = try runCLI(["generate", "--model", Self.tiny, "--prompt", "Hi", "--max-tokens", "2"],
                                     environment: ["TRIDENT_LOG_LEVEL": "debug"])
        #expect(environment.stderrLines.contains { $0.contains(" debug trident.engine: loading model") }, "\(environment.transcript)")
    }

    @Test("perplexity --json is one JSON object with finite numbers")
    func perplexityJSON() throws {
        try withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("text.txt")
            try Data(String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 20).utf8).write(to: file)
            let result = try runCLI(["perplexity", "--model", Self.tiny, "--file", file.path, "--context", "16", "--json"])
            #expect(result.status == 0, "\(result.transcript)")
            let object = try result.lastJSON()
            let perplexity = try #require(object["perplexity"] as? Double)
            #expect(perplexity.isFinite && perplexity >= 1)
            #expect((object["chunks"] as? Int ?? 0) >= 2)
        }
    }
}
