import ArgumentParser
import Foundation
import TridentEngine
import TridentFormats
import TridentTokenizer

struct PerplexityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perplexity",
        abstract: "Perplexity of a text file, by llama.cpp's method (chunks of --context tokens, second halves scored).")

    @OptionGroup var model: ModelOptions
    @OptionGroup var parallel: ParallelOptions

    @Option(help: "Text file to score.")
    var file: String

    @Option(help: "Chunk length in tokens.")
    var context: Int = 128

    @Flag(help: "Also print {\"perplexity\":X,\"tokens\":N} as the last line.")
    var json = false

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ExitMessage("cannot read text file '\(file)'")
        }
        let text = String(decoding: data, as: UTF8.self)
        let gguf = try GGUFFile(path: model.model)
        let tokenizer = try Tokenizer(gguf: gguf)
        let tokens = tokenizer.encode(text, parseSpecial: false).map { Int32($0) }
        let bos: Int32? = tokenizer.vocabulary.addBOS ? tokenizer.vocabulary.bosId.map { Int32($0) } : nil
        var session = ParallelSession(model: model, parallel: parallel, capacity: context)
        // Chunks are independent: two per stage in each step keep every pipeline stage busy.
        session.slotsPerReplica = parallel.pp > 1 ? 2 * parallel.pp : 1
        let json = self.json
        try session.run { runner in
            let result = try PerplexityEvaluator.evaluate(runner: runner, tokens: tokens, context: context, bos: bos)
            print(String(format: "perplexity: %.4f", result.perplexity))
            if json {
                print("{\"perplexity\":\(result.perplexity),\"tokens\":\(result.scoredTokens),\"chunks\":\(result.chunks)}")
            }
        }
    }
}
