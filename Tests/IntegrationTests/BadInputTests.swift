import Foundation
import Testing

/// Drives the built CLI with a table of bad values for every numeric option of every command
/// and with bad input files: each must end with a non-zero status, exactly one stderr line
/// (`trident: error: ...`), and never a signal (a precondition failure is SIGILL/SIGTRAP).
@Suite("Bad input gives one-line errors", .serialized, .enabled(if: CLIPaths.binary != nil, "needs a built trident"))
struct BadInputTests {
    static let tiny = CLIPaths.tinyModel("q8_0")

    /// Values no option accepts, and values only some accept.
    static let notAnInteger = ["", "abc", "1.5", "nan", "99999999999999999999999"]
    static let notANumber = ["", "abc", "nan", "inf", "-inf", "1e39"]

    /// One bad invocation: its arguments and a name for failure messages.
    struct Case: CustomStringConvertible, Sendable {
        var arguments: [String]
        var description: String { arguments.joined(separator: " ") }
    }

    /// `option` given each of `values` after `base`.
    static func cases(_ base: [String], _ option: String, _ values: [String]) -> [Case] {
        values.map { Case(arguments: base + [option, $0]) }
    }

    /// Integer options: zero where refused, negative, the largest Int, and non-integers.
    static func integer(_ base: [String], _ option: String, zeroIsBad: Bool = true) -> [Case] {
        cases(base, option, (zeroIsBad ? ["0"] : []) + ["-1", "9223372036854775807"] + notAnInteger)
    }

    /// Real options: zero where refused, negative, non-finite and non-numbers.
    static func real(_ base: [String], _ option: String, zeroIsBad: Bool) -> [Case] {
        cases(base, option, (zeroIsBad ? ["0"] : []) + ["-1"] + notANumber)
    }

    static var numericCases: [Case] {
        let generate = ["generate", "--model", tiny, "--prompt", "x"]
        var all: [Case] = []
        for option in ["--max-tokens", "-n", "--top-logprobs", "--top-k"] { all += integer(generate, option, zeroIsBad: false) }
        for option in ["--threads", "-t", "--tp", "-tp", "--tensor-parallel-size", "--pp", "-pp", "--dp",
                       "--max-sequences"] {
            all += integer(generate, option)
        }
        all += real(generate, "--temperature", zeroIsBad: false) + real(generate, "--temp", zeroIsBad: false)
        all += real(generate, "--top-p", zeroIsBad: true) + real(generate, "--min-p", zeroIsBad: false)
        all += real(generate, "--repeat-penalty", zeroIsBad: true)
        all += cases(generate, "--seed", ["-1", "abc", "", "1.5", "99999999999999999999999"])
        all += cases(generate, "--min-p", ["1", "2"]) + cases(generate, "--top-p", ["1.5"])
        let perplexity = ["perplexity", "--model", tiny, "--file", CLIPaths.fixtures.appendingPathComponent("tokenizer/make_fixtures.py").path]
        all += integer(perplexity, "--context") + integer(perplexity, "-c") + cases(perplexity, "--context", ["3"])
        let bench = ["bench", "model", "--model", tiny]
        for option in ["--prompt-tokens", "--decode-tokens", "--prompts", "--repetitions"] { all += integer(bench, option) }
        let allreduce = ["bench", "allreduce"]
        all += integer(allreduce, "--nproc") + integer(allreduce, "--iterations")
        all += cases(allreduce, "--sizes", ["", "abc", "0", "-4", "4,,8", "99999999999999999999"])
        let plan = ["plan", "--model", "llama-7b"]
        for option in ["--devices", "--devices-per-node", "--batch", "--prompt-length", "--output-length",
                       "--global-batch", "--micro-batch", "--sequence-length"] {
            all += integer(plan, option)
        }
        all += real(plan, "--device-tflops", zeroIsBad: true)
        all += cases(plan, "--device-memory", ["", "abc", "0", "-1GB", "nan", "inf"])
        all += cases(plan + ["--global-batch", "4"], "--micro-batch", ["8"])
        all += cases(plan, "--configurations", ["", "abc", "-1x1x1", "0x1x1", "4x1", "99999999999999999999x1x1"])
        all += cases(generate + ["--pp", "2"], "--pipeline-layers", ["", "-1,2", "0,2", "a,b", "1,1,1", "99999999999999999999,1"])
        return all
    }

    @Test("every numeric option refuses zero, negative, huge, non-finite, empty and non-numeric values with one line")
    func numericOptions() throws {
        let table = Self.numericCases
        try Self.expectOneLineFailures(table)
        print("bad-input table: \(table.count) numeric cases")
    }

    /// Runs every case, collecting all failures.
    static func expectOneLineFailures(_ table: [Case]) throws {
        for entry in table {
            let result = try runCLI(entry.arguments, timeout: 60)
            let lines = result.stderrLines
            let ok = result.status != 0 && !result.signaled && lines.count == 1
                && (lines[0].hasPrefix("trident: error:") || lines[0].hasPrefix("Error:"))
            #expect(ok, "\(entry)\n\(result.transcript)")
        }
    }

    /// Bad files in a temporary directory: empty, invalid UTF-8, a directory, a missing path,
    /// only blank lines (CRLF).
    static func fileCases(in directory: URL) throws -> [Case] {
        func file(_ name: String, _ bytes: [UInt8]) throws -> String {
            let url = directory.appendingPathComponent(name)
            try Data(bytes).write(to: url)
            return url.path
        }
        let empty = try file("empty.txt", [])
        let invalid = try file("invalid.txt", Array("caf".utf8) + [0xC3, 0x28] + Array(" x\n".utf8))
        let blank = try file("blank.txt", Array("\r\n  \r\n\r\n".utf8))
        let emptyModel = try file("empty.gguf", [])
        let dir = directory.path, missing = directory.appendingPathComponent("missing.txt").path
        var all: [Case] = []
        let generate = ["generate", "--model", tiny, "--prompts-file"]
        for path in [empty, invalid, blank, dir, missing] { all.append(Case(arguments: generate + [path])) }
        let perplexity = ["perplexity", "--model", tiny, "--file"]
        for path in [empty, invalid, dir, missing] { all.append(Case(arguments: perplexity + [path])) }
        let tokenize = ["tokenize", "--model", tiny, "--file"]
        for path in [empty, invalid, dir, missing] { all.append(Case(arguments: tokenize + [path])) }
        for command in [["generate", "--prompt", "x", "--model"], ["perplexity", "--file", blank, "--model"],
                        ["info", "--model"], ["tokenize", "--text", "x", "--model"], ["bench", "model", "--model"]] {
            for path in [dir, emptyModel, invalid, missing, ""] { all.append(Case(arguments: command + [path])) }
        }
        all.append(Case(arguments: ["generate", "--model", tiny, "--prompt", ""]))
        all.append(Case(arguments: ["perplexity", "--model", tiny, "--file", blank, "--context", "64"]))
        return all
    }

    @Test("empty, invalid UTF-8, blank, missing files and directories give one-line errors")
    func badFiles() throws {
        try withTemporaryDirectory { directory in
            let table = try Self.fileCases(in: directory)
            try Self.expectOneLineFailures(table)
            print("bad-input table: \(table.count) file cases")
        }
    }

    @Test("a CRLF prompts file is one prompt per line, as the LF file is")
    func crlfPromptsFile() throws {
        try withTemporaryDirectory { directory in
            let lf = directory.appendingPathComponent("lf.txt"), crlf = directory.appendingPathComponent("crlf.txt")
            try Data("Hello\nOnce upon a time\n\ndef f(n):\n".utf8).write(to: lf)
            try Data("Hello\r\nOnce upon a time\r\n\r\ndef f(n):\r\n".utf8).write(to: crlf)
            var outputs: [[[Int]]] = []
            for file in [lf, crlf] {
                let result = try runCLI(["generate", "--model", Self.tiny, "--prompts-file", file.path, "--max-tokens", "3",
                                         "--json"], timeout: 120)
                #expect(result.status == 0, "\(result.transcript)")
                // Per result line: its index, prompt and generated ids (timings differ run to run).
                outputs.append(try result.stdout.split(separator: "\n").map { line in
                    let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
                    return [object["index"] as? Int ?? -1] + jsonInts(object["prompt_tokens"]) + [-1] + jsonInts(object["tokens"])
                })
            }
            #expect(outputs[0].count == 3)
            #expect(outputs[1] == outputs[0])
            #expect(outputs[0].map { $0[0] } == [0, 1, 2])
        }
    }

    @Test("--top-k -1 names the option and the value, not a missing value")
    func negativeTopK() throws {
        let result = try runCLI(["generate", "--model", Self.tiny, "--prompt", "x", "--top-k", "-1"])
        #expect(result.stderrLines == ["trident: error: --top-k must be in 0...16777216, got -1"], "\(result.transcript)")
    }

    @Test("a prompt and a stop string may start with '-'")
    func dashValues() throws {
        let result = try runCLI(["generate", "--model", Self.tiny, "--prompt", "-x", "--stop", "-", "--max-tokens", "2",
                                 "--json"])
        #expect(result.status == 0, "\(result.transcript)")
        #expect(jsonInts(try result.lastJSON()["prompt_tokens"]).count >= 1)
    }

    @Test("a directory without config.json as --model names what was looked for")
    func directoryModel() throws {
        let result = try runCLI(["generate", "--model", CLIPaths.fixtures.path, "--prompt", "x"])
        #expect(result.stderrLines.count == 1 && result.stderrLines[0].contains("neither config.json nor manifest.json"),
                "\(result.transcript)")
    }
}
