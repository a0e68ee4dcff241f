import Foundation
import Testing

/// `--kv-type f32|f16` on the commands that hold a KV cache.
@Suite("--kv-type on the CLI", .serialized, .enabled(if: CLIPaths.binary != nil, "needs a built trident"))
struct KVTypeCLITests {
    static let tiny = CLIPaths.tinyModel("q8_0")

    @Test("--kv-type refuses anything but f32 and f16, on every command that takes it, with one line")
    func badValuesRefused() throws {
        let commands = [["generate", "--model", Self.tiny, "--prompt", "x"],
                        ["perplexity", "--model", Self.tiny, "--file", CLIPaths.license],
                        ["serve", "--model", Self.tiny, "--port", "0"],
                        ["bench", "model", "--model", Self.tiny]]
        var table: [BadInputTests.Case] = []
        for command in commands {
            for value in ["", "q8_0", "F16", "f64", "bf16", "16"] {
                table.append(BadInputTests.Case(arguments: command + ["--kv-type", value]))
            }
        }
        try BadInputTests.expectOneLineFailures(table)
        let result = try runCLI(commands[0] + ["--kv-type", "q8_0"])
        #expect(result.stderr.contains("--kv-type") && result.stderr.contains("f16"), "\(result.transcript)")
    }

    @Test("generate: --kv-type f32 is the default; f16 generates too")
    func generateWithEachType() throws {
        func ids(_ extra: [String]) throws -> [Int] {
            let result = try runCLI(["generate", "--model", Self.tiny, "--prompt", "Once upon a time", "--max-tokens", "8",
                                     "--json"] + extra)
            #expect(result.status == 0, "\(result.transcript)")
            return jsonInts(try result.lastJSON()["tokens"])
        }
        let plain = try ids([])
        #expect(plain.count == 8)
        #expect(try ids(["--kv-type", "f32"]) == plain)
        #expect(try ids(["--kv-type", "f16"]).count == 8)
    }

    @Test("bench model --kv-type f16 reports the type", .enabled(if: CLIPaths.smolLM2Available, "needs the SmolLM2 model"))
    func benchReportsType() throws {
        let result = try runCLI(["bench", "model", "--model", CLIPaths.smolLM2, "--prompt-tokens", "300",
                                 "--decode-tokens", "4", "--repetitions", "1", "--kv-type", "f16", "--json"])
        #expect(result.status == 0, "\(result.transcript)")
        let report = try result.lastJSON()
        #expect(report["kv_type"] as? String == "f16")
        #expect(((report["decode_tokens_per_second"] as? NSNumber)?.doubleValue ?? 0) > 0)
    }
}
