import ArgumentParser
import Foundation
import TridentEngine
import TridentFormats
import TridentTokenizer

struct GenerateCommand: ParsableCommand, RunsRanks {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text from a prompt (or many, --prompts-file), on one rank or split across several (--tp, --pp, --dp).")

    @OptionGroup var model: ModelOptions
    @OptionGroup var parallel: ParallelOptions
    @OptionGroup var kvCache: KVCacheOptions
    @OptionGroup var logging: LoggingOptions
    @OptionGroup var sampling: SamplingOptions

    @Option(name: [.long, .customShort("p")], parsing: .unconditional, help: "The prompt text (may start with '-'). Special-token texts such as <|im_start|> become those tokens.")
    var prompt: String?

    @Option(help: "A UTF-8 file with one prompt per line (LF or CRLF; blank lines skipped), generated concurrently.")
    var promptsFile: String?

    @Option(parsing: .unconditional, help: "With --prompts-file: most sequences in flight per data-parallel replica.")
    var maxSequences: Int = 16

    @Flag(help: "Wrap the prompt as a user message with the model's chat template.")
    var chat = false

    @Flag(help: "Print one JSON object with tokens, text, stop reason and stats as the last line (one line per prompt with --prompts-file).")
    var json = false

    @Option(help: "Write every rank's timeline (prefill, decode steps, blocks, collectives with bytes) as Chrome trace-event JSON to this file (Perfetto, chrome://tracing, `trident trace`).")
    var trace: String?

    func validate() throws {
        guard (prompt == nil) != (promptsFile == nil) else {
            throw ValidationError("give either --prompt or --prompts-file")
        }
        try OptionCheck.integer(maxSequences, in: 1...(1 << 16), "--max-sequences")
        try InferenceTrace.validate(trace)
    }

    func run() throws {
        if let merged = try CheckpointModel.exportIfCheckpoint(model.model) {
            defer { try? FileManager.default.removeItem(atPath: merged) }
            var copy = self
            copy.model.model = merged
            return try copy.run()
        }
        if let promptsFile { return try runMany(promptsFile) }
        var session = ParallelSession(model: model, parallel: parallel, capacity: ParallelSession.defaultCapacity,
                                        kvType: kvCache.kvType)
        session.tracePath = trace
        let json = self.json, prompt = self.prompt!, chat = self.chat, sampling = self.sampling, path = model.model
        let progress = ProgressLine(enabled: !json)
        progress.loading(path, ranks: parallel.worldSize)
        try session.run { runner in
            progress.modelLoaded(seconds: runner.runtime.loadSeconds)
            // Only the driver tokenizes, samples and prints.
            let tokenizer = try ModelTokenizer.load(path)
            let request = try sampling.request(PromptBuilder.tokens(prompt, chat: chat, tokenizer: tokenizer))
            let generator = BatchGenerator(runner: runner, tokenizer: tokenizer)
            let result = try generator.generate(request) { piece in
                FileHandle.standardOutput.write(Data(piece.utf8))
            }
            print("")
            if json {
                let report = GenerationReport(result: result, loadSeconds: runner.runtime.loadSeconds,
                                              ranks: try runner.rankStatistics())
                print(try report.jsonLine())
            }
        }
    }

    /// `--prompts-file`: every prompt generated concurrently (up to --max-sequences per replica),
    /// results printed in file order as soon as they and all earlier ones are done.
    private func runMany(_ file: String) throws {
        let prompts = try PromptsFile.read(file)
        let longest = prompts.map(\.utf8.count).max()!
        // A byte-level BPE prompt has at most one token per byte; a chat template adds an unknown amount.
        let capacity = chat ? ParallelSession.defaultCapacity
            : min(ParallelSession.defaultCapacity, longest + sampling.maxTokens + 2)
        var session = ParallelSession(model: model, parallel: parallel, capacity: capacity,
                                        kvType: kvCache.kvType)
        session.slotsPerReplica = min(maxSequences, (prompts.count + parallel.dp - 1) / parallel.dp)
        session.tracePath = trace
        let json = self.json, chat = self.chat, sampling = self.sampling, path = model.model
        let progress = ProgressLine(enabled: !json)
        progress.loading(path, ranks: parallel.worldSize)
        try session.run { runner in
            progress.modelLoaded(seconds: runner.runtime.loadSeconds)
            let tokenizer = try ModelTokenizer.load(path)
            let requests = try prompts.map { try sampling.request(PromptBuilder.tokens($0, chat: chat, tokenizer: tokenizer)) }
            var printer = OrderedPrinter()
            let started = DispatchTime.now().uptimeNanoseconds
            let generator = BatchGenerator(runner: runner, tokenizer: tokenizer)
            let results = try generator.generate(requests, onFinish: { index, result in
                printer.finished(index) {
                    if json {
                        var report = GenerationReport(result: result, loadSeconds: runner.runtime.loadSeconds, ranks: nil)
                        report.index = index
                        return try report.jsonLine()
                    }
                    return "--- prompt \(index + 1): \(prompts[index])\n\(result.text)"
                }
            })
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            let generated = results.reduce(0) { $0 + $1.tokens.count }
            let rate = String(format: "%.2f s: %.1f tokens/s", seconds, Double(generated) / seconds)
            FileHandle.standardError.write(Data(
                "generated \(generated) tokens for \(prompts.count) prompts in \(rate) (\(runner.placement))\n".utf8))
        }
    }
}

/// Prints results in input order: each as soon as it and every earlier one are done.
struct OrderedPrinter {
    private var pending: [Int: String] = [:]
    private var next = 0

    mutating func finished(_ index: Int, _ render: () throws -> String) {
        pending[index] = (try? render()) ?? "{\"index\":\(index),\"error\":\"could not render the result\"}"
        while let line = pending.removeValue(forKey: next) {
            print(line)
            next += 1
        }
    }
}

/// `--prompts-file`: one prompt per line (LF or CRLF; blank lines skipped).
enum PromptsFile {
    /// - Throws: when the file cannot be read, is not UTF-8 or holds no prompt.
    static func read(_ path: String) throws -> [String] {
        let prompts = InputFile.lines(try InputFile.text(path, option: "--prompts-file"))
        guard !prompts.isEmpty else { throw ExitMessage("--prompts-file: '\(path)' has no prompt (one per line)") }
        return prompts
    }
}

extension SamplingOptions {
    /// A generation request for `promptTokens` with these flags.
    func request(_ promptTokens: [Int32]) -> GenerationRequest {
        GenerationRequest(promptTokens: promptTokens, maxTokens: maxTokens, sampling: parameters,
                          stopStrings: stop, ignoreEndOfGeneration: ignoreEos, topLogprobs: topLogprobs)
    }
}

/// Turns the user's prompt into token ids.
enum PromptBuilder {
    static func tokens(_ prompt: String, chat: Bool, tokenizer: Tokenizer) throws -> [Int32] {
        var text = prompt
        if chat {
            guard let rendered = try tokenizer.applyChatTemplate([ChatMessage(role: "user", content: prompt)]) else {
                throw ExitMessage("--chat: the model has no chat template (tokenizer.chat_template)")
            }
            text = rendered
        }
        let ids = tokenizer.encode(text, parseSpecial: true).map { Int32($0) }
        guard !ids.isEmpty else { throw ExitMessage("the prompt is empty") }
        return ids
    }
}
