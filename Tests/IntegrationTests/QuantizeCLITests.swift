import Foundation
import Testing

/// `trident quantize` end to end: files it writes load and generate, its per-tensor report
/// names the chosen types and errors, and bad input fails with one line.
@Suite("trident quantize", .serialized, .enabled(if: CLIPaths.binary != nil, "needs a built trident"))
struct QuantizeCLITests {
    static func jsonInts(_ value: Any?) -> [Int] { (value as? [Any])?.compactMap { ($0 as? NSNumber)?.intValue } ?? [] }

    /// The tiny F32 model -> q8_0 gives the same weights as the committed Q8_0 fixture (made by
    /// gguf-py's reference quantizer), so greedy generation equals that model's float64 oracle.
    @Test func f32ToQ8_0GeneratesLikeTheOracle() throws {
        try withTemporaryDirectory { directory in
            let out = directory.appendingPathComponent("tiny-q8_0.gguf").path
            let quantize = try runCLI(["quantize", CLIPaths.tinyModel("f32"), out, "--type", "q8_0"])
            #expect(quantize.status == 0, "\(quantize.transcript)")
            #expect(quantize.stdout.contains("blk.0.attn_q.weight"), "a line per tensor")
            #expect(quantize.stdout.contains("F32   -> Q8_0"))
            let oracleURL = CLIPaths.fixtures.appendingPathComponent("oracle/tiny-q8_0.hello.json")
            let oracle = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: oracleURL)) as? [String: Any])
            let generate = try runCLI(["generate", "--model", out, "--prompt", try #require(oracle["prompt"] as? String),
                                       "--max-tokens", "16", "--json"])
            #expect(generate.status == 0, "\(generate.transcript)")
            #expect(Self.jsonInts(try generate.lastJSON()["tokens"]) == Self.jsonInts(oracle["greedy"]))
        }
    }

    /// llama.cpp's Q4_K_M tiny model re-encoded as q5_k_m: matrices become Q5_K (the Q6_K
    /// output and layer-1 attn_v / ffn_down are copied), errors are reported and small, and
    /// the result loads and generates.
    @Test func kQuantMixRequantizesAndGenerates() throws {
        try withTemporaryDirectory { directory in
            let out = directory.appendingPathComponent("tiny-q5_k_m.gguf").path
            let quantize = try runCLI(["quantize", CLIPaths.fixtures.appendingPathComponent("tiny-llama-256-q4_k_m.gguf").path,
                                       out, "--type", "q5_k_m"])
            #expect(quantize.status == 0, "\(quantize.transcript)")
            let q5Lines = quantize.stdout.split(separator: "\n").filter { $0.contains("-> Q5_K") }
            #expect(q5Lines.count == 13, "token_embd + 2 × (q, k, v-of-layer-0, output, gate, up) + layer-0 ffn_down")
            for line in q5Lines {
                let error = line.split(separator: " ").drop { $0 != "rel.rms" }.dropFirst().first.flatMap { Double($0) }
                #expect(error.map { $0 > 0 && $0 < 0.05 } == true, "Q5_K relative RMS error: \(line)")
            }
            #expect(quantize.stdout.contains("output.weight") && quantize.stdout.contains("copied"))
            let info = try runCLI(["info", "--model", out])
            #expect(info.status == 0 && info.stdout.contains("Q5_K") && info.stdout.contains("Q6_K"), "\(info.transcript)")
            let generate = try runCLI(["generate", "--model", out, "--prompt", "Hello", "--max-tokens", "8", "--json"])
            #expect(generate.status == 0, "\(generate.transcript)")
            #expect(Self.jsonInts(try generate.lastJSON()["tokens"]).count == 8)
        }
    }

    @Test func huggingFaceDirectoryWithoutTokenizerIsRefusedWithOneLine() throws {
        let directory = CLIPaths.fixtures.appendingPathComponent("architectures/tiny-mistral-hf").path
        let result = try runCLI(["quantize", directory, "/tmp/trident-quantize-unused.gguf", "--type", "q8_0"])
        CLITests.expectCleanFailure(result, mentioning: [directory, "tokenizer.json"])
        #expect(!FileManager.default.fileExists(atPath: "/tmp/trident-quantize-unused.gguf"))
    }

    @Test(arguments: [
        (["--type", "q3_k"], "--type"),
        (["--type", "q4_k_m", "--threads", "0"], "--threads"),
    ])
    func badOptions(extra: [String], needle: String) throws {
        let result = try runCLI(["quantize", CLIPaths.tinyModel("f32"), "/tmp/trident-quantize-unused.gguf"] + extra)
        CLITests.expectCleanFailure(result, mentioning: [needle])
        #expect(!FileManager.default.fileExists(atPath: "/tmp/trident-quantize-unused.gguf"))
    }

    @Test func badPaths() throws {
        let missing = try runCLI(["quantize", "/nonexistent/in.gguf", "/tmp/x.gguf", "--type", "q8_0"])
        CLITests.expectCleanFailure(missing, mentioning: ["/nonexistent/in.gguf"])
        let noDirectory = try runCLI(["quantize", CLIPaths.tinyModel("f32"), "/nonexistent/dir/out.gguf", "--type", "q8_0"])
        CLITests.expectCleanFailure(noDirectory, mentioning: ["/nonexistent/dir"])
        let unwritable = try runCLI(["quantize", CLIPaths.tinyModel("f32"), "/proc/trident-out.gguf", "--type", "q8_0"])
        CLITests.expectCleanFailure(unwritable, mentioning: ["/proc"])
        try withTemporaryDirectory { directory in
            let notGGUF = directory.appendingPathComponent("text.gguf")
            try Data("not a model".utf8).write(to: notGGUF)
            let result = try runCLI(["quantize", notGGUF.path, directory.appendingPathComponent("o.gguf").path, "--type", "q8_0"])
            CLITests.expectCleanFailure(result, mentioning: ["GGUF"])
        }
    }
}
