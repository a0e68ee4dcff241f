import Foundation

/// Paths the CLI tests use, found from this file's location (no SwiftPM resources).
enum CLIPaths {
    /// The repository root.
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repository.appendingPathComponent("Tests/Fixtures")
    /// The real default model, fetched by `scripts/fetch-model.sh` (git-ignored).
    static let smolLM2 = repository.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path
    static let license = repository.appendingPathComponent("models/LICENSE.txt").path
    static var smolLM2Available: Bool { FileManager.default.fileExists(atPath: smolLM2) }

    static func tinyModel(_ variant: String) -> String {
        fixtures.appendingPathComponent("tiny-llama-\(variant).gguf").path
    }

    /// The `trident` executable the CLI tests drive: `$TRIDENT_BINARY` when set, else
    /// `<repo>/.build/release/trident` (CI builds it before the tests), else the one built next to
    /// this test bundle, else `<repo>/.build/debug/trident`; nil when none exists.
    static let binary: String? = {
        let build = repository.appendingPathComponent(".build")
        let candidates: [String?] = [ProcessInfo.processInfo.environment["TRIDENT_BINARY"],
                          build.appendingPathComponent("release/trident").path,
                          tridentBinary,
                          build.appendingPathComponent("debug/trident").path]
        return candidates.compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()
}

/// How one run of the CLI ended.
struct CLIResult {
    var status: Int32
    /// True when the process died of a signal (a crash, or killed at the timeout).
    var signaled: Bool
    var stdout: String
    var stderr: String
    var seconds: Double

    /// Non-empty lines written to stderr.
    var stderrLines: [Substring] {
        stderr.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    }

    /// Everything the process printed, for failure messages.
    var transcript: String { "status \(status)\(signaled ? " (signal)" : "")\nstdout:\n\(stdout)\nstderr:\n\(stderr)" }

    /// The last non-empty stdout line parsed as a JSON object (the `--json` report).
    func lastJSON() throws -> [String: Any] {
        guard let line = stdout.split(separator: "\n").last(where: { !$0.isEmpty }),
              let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw CLITestError.noJSON(transcript)
        }
        return object
    }
}

enum CLITestError: Error, CustomStringConvertible {
    case noJSON(String)
    case noBinary
    var description: String {
        switch self {
        case .noJSON(let transcript): return "no JSON object on the last stdout line:\n\(transcript)"
        case .noBinary: return "no trident binary (build it with `swift build -c release`)"
        }
    }
}

/// Runs `trident arguments...` to completion, stdout and stderr kept apart (in temporary files,
/// so a chatty child can never block on a full pipe). After `timeout` seconds the child gets
/// SIGTERM (which the launcher forwards to its ranks), then SIGKILL 3 s later.
func runCLI(_ arguments: [String], environment: [String: String] = [:], timeout: Double = 120) throws -> CLIResult {
    guard let binary = CLIPaths.binary else { throw CLITestError.noBinary }
    return try withTemporaryDirectory { directory in
        let outURL = directory.appendingPathComponent("stdout"), errURL = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        defer { try? out.close(); try? err.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let started = ContinuousClock.now
        try process.run()
        let deadline = Date(timeIntervalSinceNow: timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let grace = Date(timeIntervalSinceNow: 3)
            while process.isRunning && Date() < grace { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        let elapsed = ContinuousClock.now - started
        return CLIResult(status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
                         stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                         stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self),
                         seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }
}

/// A fixture of the numpy oracle (`Tests/Fixtures/oracle/<name>.json`) as a JSON object.
func oracleFixture(_ name: String) throws -> [String: Any] {
    let url = CLIPaths.fixtures.appendingPathComponent("oracle/\(name).json")
    return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
}

/// `[Int]` from a JSON array of numbers (missing or malformed: empty).
func jsonInts(_ value: Any?) -> [Int] {
    (value as? [Any])?.compactMap { ($0 as? NSNumber)?.intValue } ?? []
}

/// Runs `body` with a fresh temporary directory, removed afterwards.
func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("trident-cli-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try body(directory)
}
