import ArgumentParser
import Foundation
import TridentEngine
import TridentFormats
import TridentTokenizer

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text from a prompt, on one rank or split across several (--tp).")

    @OptionGroup var model: ModelOptions
    @OptionGroup var parallel: ParallelOptions
    @OptionGroup var sampling: SamplingOptions

    @Option(help: "The prompt text. Special-token texts such as <|im_start|> become those tokens.")
    var prompt: String

    @Flag(help: "Wrap the prompt as a user message with the model's chat template.")
    var chat = false

    @Flag(help: "Print one JSON object with tokens, text, stop reason and stats as the last line.")
    var json = false

    func run() throws {
        let session = ParallelSession(model: model, parallel: parallel, capacity: ParallelSession.defaultCapacity)
        let json = self.json, prompt = self.prompt, chat = self.chat, sampling = self.sampling, path = model.model
        try session.run { runner in
            // Only the driver tokenizes, samples and prints.
            let tokenizer = try Tokenizer(gguf: GGUFFile(path: path))
            let promptTokens = try PromptBuilder.tokens(prompt, chat: chat, tokenizer: tokenizer)
            let request = GenerationRequest(promptTokens: promptTokens, maxTokens: sampling.maxTokens,
                                            sampling: sampling.parameters, stopStrings: sampling.stop,
                                            ignoreEndOfGeneration: sampling.ignoreEos, topLogprobs: sampling.topLogprobs)
            let generator = TextGenerator(runner: runner, tokenizer: tokenizer)
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
