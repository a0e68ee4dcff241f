import Foundation
import Testing

/// The `trident` command line, driven as a user would: real processes, real model.
@Suite("trident CLI", .serialized,
       .enabled(if: CLIPaths.binary != nil, "needs a built trident (.build/release/trident or .build/debug/trident)"))
struct CLITests {
    static let capitalPrompt = "The capital of France is"

    /// `trident generate` greedy on the capital prompt, with `extra` arguments.
    static func generateCapital(_ extra: [String] = [], environment: [String: String] = [:],
                                timeout: Double = 120) throws -> CLIResult {
        try runCLI(["generate", "--model", CLIPaths.smolLM2, "--prompt", capitalPrompt,
                    "--max-tokens", "24", "--json"] + extra, environment: environment, timeout: timeout)
    }

    // MARK: - Generation

    @Test("generate --json: greedy ids equal the oracle's (first 24), text and report are consistent",
          .enabled(if: CLIPaths.smolLM2Available, "needs the SmolLM2 model"))
    func generateMatchesOracle() throws {
        let oracle = try oracleFixture("smollm2-q4_1.capital")
        let result = try Self.generateCapital()
        #expect(result.status == 0, "\(result.transcript)")
        let report = try result.lastJSON()
        #expect(jsonInts(report["prompt_tokens"]) == jsonInts(oracle["tokens"]))
        #expect(jsonInts(report["tokens"]) == Array(jsonInts(oracle["greedy"]).prefix(24)))
        let text = try #require(report["text"] as? String)
        #expect(text.hasPrefix(" Paris"))
        #expect((oracle["greedy_text"] as? String)?.hasPrefix(text) == true, "text \(text.debugDescription)")
        #expect(result.stdout.hasPrefix(text), "the text is streamed to stdout before the report")
        #expect((report["ranks"] as? [Any])?.count == 1)
        let stats = try #require(report["stats"] as? [String: Any])
        #expect(((stats["decode_tokens_per_second"] as? NSNumber)?.doubleValue ?? 0) > 0)
    }

    @Test("generate --tp 2 --backend tcp: the same ids, and a ranks array of 2",
          .enabled(if: CLIPaths.smolLM2Available, "needs the SmolLM2 model"))
    func generateTensorParallelTCP() throws {
        let oracle = try oracleFixture("smollm2-q4_1.capital")
        let result = try Self.generateCapital(["--tp", "2", "--backend", "tcp", "--threads", "1"])
        #expect(result.status == 0, "\(result.transcript)")
        let report = try result.lastJSON()
        #expect(jsonInts(report["tokens"]) == Array(jsonInts(oracle["greedy"]).prefix(24)))
        let ranks = try #require(report["ranks"] as? [[String: Any]])
        #expect(ranks.compactMap { ($0["rank"] as? NSNumber)?.intValue } == [0, 1])
    }

    @Test("generate --chat renders the chat template (default system message) and generates",
          .enabled(if: CLIPaths.smolLM2Available, "needs the SmolLM2 model"))
    func generateChat() throws {
        let question = "What is the capital of France?"
        let result = try runCLI(["generate", "--model", CLIPaths.smolLM2, "--prompt", question, "--chat",
                                 "--max-tokens", "12", "--json"])
        #expect(result.status == 0, "\(result.transcript)")
        let report = try result.lastJSON()
        let rendered = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
            + "<|im_end|>\n<|im_start|>user\n\(question)<|im_end|>\n<|im_start|>assistant\n"
        let tokenized = try runCLI(["tokenize", "--model", CLIPaths.smolLM2, rendered])
        let expected = tokenized.stdout.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        #expect(expected.count > 20 && expected.first == 1, "<|im_start|> is token 1: \(tokenized.transcript)")
        #expect(jsonInts(report["prompt_tokens"]) == expected)
        #expect(!jsonInts(report["tokens"]).isEmpty)
        #expect(!((report["text"] as? String) ?? "").isEmpty)
    }

    // MARK: - Perplexity, tokenize, info

    @Test("perplexity --json on LICENSE.txt at context 128 is within 0.3% of the oracle's",
          .enabled(if: CLIPaths.smolLM2Available, "needs the SmolLM2 model"))
    func perplexity() throws {
        let oracle = try oracleFixture("smollm2-q4_1.license-ppl")
        let expected = try #require((oracle["ppl"] as? NSNumber)?.doubleValue)
        let result = try runCLI(["perplexity", "--model", CLIPaths.smolLM2, "--file", CLIPaths.license,
                                 "--context", "128", "--json"])
        #expect(result.status == 0, "\(result.transcript)")
        let report = try result.lastJSON()
        let value = try #require((report["perplexity"] as? NSNumber)?.doubleValue)
        #expect(abs(value / expected - 1) < 0.003, "perplexity \(value), oracle \(expected)")
        #expect((report["tokens"] as? NSNumber)?.intValue == (oracle["scored_tokens"] as? NSNumber)?.intValue)
        #expect((report["chunks"] as? NSNumber)?.intValue == (oracle["n_chunks"] as? NSNumber)?.intValue)
    }

    @Test("tokenize prints the oracle's token ids", .enabled(if: CLIPaths.smolLM2Available, "needs the SmolLM2 model"))
    func tokenize() throws {
        let oracle = try oracleFixture("smollm2-q4_1.capital")
        let result = try runCLI(["tokenize", "--model", CLIPaths.smolLM2, Self.capitalPrompt])
        #expect(result.status == 0, "\(result.transcript)")
        #expect(result.stdout.split(whereSeparator: \.isWhitespace).compactMap { Int($0) } == jsonInts(oracle["tokens"]))
        // Special-token text is one token unless --no-parse-special.
        let special = try runCLI(["tokenize", "--model", CLIPaths.smolLM2, "<|im_start|>"])
        #expect(special.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "\(special.transcript)")
        let plain = try runCLI(["tokenize", "--model", CLIPaths.smolLM2, "--no-parse-special", "<|im_start|>"])
        #expect(plain.stdout.split(whereSeparator: \.isWhitespace).count > 1, "\(plain.transcript)")
    }

    @Test("info reports the tiny model's architecture")
    func infoTiny() throws {
        let result = try runCLI(["info", "--model", CLIPaths.tinyModel("q8_0")])
        #expect(result.status == 0, "\(result.transcript)")
        for fact in ["layers:          2", "hidden size:     64", "ffn size:        128",
                     "heads:           4 query, 2 KV (group 2), head dim 16", "vocabulary:      256"] {
            #expect(result.stdout.contains(fact), "missing '\(fact)' in\n\(result.stdout)")
        }
    }

    @Test("info reports SmolLM2's architecture and tokenizer", .enabled(if: CLIPaths.smolLM2Available, "needs the SmolLM2 model"))
    func infoSmolLM2() throws {
        let result = try runCLI(["info", "--model", CLIPaths.smolLM2])
        #expect(result.status == 0, "\(result.transcript)")
        for fact in ["layers:          30", "hidden size:     576", "ffn size:        1536",
                     "heads:           9 query, 3 KV (group 3), head dim 64", "vocabulary:      49152",
                     "tied (LM head = token_embd)", "chat template:   yes"] {
            #expect(result.stdout.contains(fact), "missing '\(fact)' in\n\(result.stdout)")
        }
    }

    // MARK: - Failures: non-zero exit, one clear line on stderr, no crash

    /// Checks a run failed cleanly: non-zero status, no signal, exactly one stderr line containing every `needle`.
    static func expectCleanFailure(_ result: CLIResult, mentioning needles: [String],
                                   sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status != 0 && !result.signaled, "\(result.transcript)", sourceLocation: sourceLocation)
        #expect(result.stderrLines.count == 1, "expected one stderr line:\n\(result.stderr)", sourceLocation: sourceLocation)
        for needle in needles {
            #expect(result.stderr.contains(needle), "stderr should name '\(needle)':\n\(result.stderr)",
                    sourceLocation: sourceLocation)
        }
    }

    @Test("a missing model file fails with one line naming the path")
    func missingModel() throws {
        let path = "/nonexistent/trident-test/model.gguf"
        let result = try runCLI(["generate", "--model", path, "--prompt", "hi"])
        Self.expectCleanFailure(result, mentioning: [path])
        let info = try runCLI(["info", "--model", path])
        Self.expectCleanFailure(info, mentioning: [path])
    }

    @Test("--tp 0 fails with one line naming --tp")
    func zeroRanks() throws {
        let result = try runCLI(["generate", "--model", CLIPaths.tinyModel("f32"), "--prompt", "hi", "--tp", "0"])
        Self.expectCleanFailure(result, mentioning: ["--tp"])
    }

    @Test("--tp 10 on SmolLM2 fails with one line naming the 9-head limit",
          .enabled(if: CLIPaths.smolLM2Available, "needs the SmolLM2 model"))
    func tooManyRanks() throws {
        let result = try runCLI(["generate", "--model", CLIPaths.smolLM2, "--prompt", "hi", "--tp", "10"])
        Self.expectCleanFailure(result, mentioning: ["9 query heads"])
    }

    @Test("a truncated GGUF fails with an error naming the problem, without crashing",
          arguments: [0.5, 0.01])
    func truncatedModel(fraction: Double) throws {
        try withTemporaryDirectory { directory in
            let original = try Data(contentsOf: URL(fileURLWithPath: CLIPaths.tinyModel("q8_0")))
            let path = directory.appendingPathComponent("truncated.gguf").path
            try original.prefix(Int(Double(original.count) * fraction)).write(to: URL(fileURLWithPath: path))
            for command in [["generate", "--model", path, "--prompt", "hi", "--max-tokens", "2"],
                            ["info", "--model", path]] {
                let result = try runCLI(command)
                Self.expectCleanFailure(result, mentioning: [])
                let message = result.stderr.lowercased()
                #expect(["truncat", "end of file", "past the end", "bytes left", "beyond"].contains { message.contains($0) },
                        "the error should say the file is cut short:\n\(result.stderr)")
            }
        }
    }

    @Test("a rank dying mid-generation (tcp) makes the run exit non-zero within 10 s, naming the rank",
          .enabled(if: CLIPaths.smolLM2Available, "needs the SmolLM2 model"))
    func deadRank() throws {
        let result = try runCLI(["generate", "--model", CLIPaths.smolLM2, "--prompt", Self.capitalPrompt,
                                 "--max-tokens", "200", "--ignore-eos", "--tp", "2", "--backend", "tcp",
                                 "--threads", "1"],
                                environment: ["TRIDENT_TEST_KILL_RANK": "1", "TRIDENT_TEST_KILL_AFTER_STEPS": "5"],
                                timeout: 60)
        #expect(result.status != 0, "\(result.transcript)")
        #expect(result.stdout.hasPrefix(" Paris"), "the rank should die after generation started")
        #expect(result.seconds < 10, "took \(result.seconds) s")
        #expect(result.stderr.contains("rank 1"), "\(result.transcript)")
    }
}
