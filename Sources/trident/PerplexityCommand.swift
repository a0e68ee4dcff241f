import ArgumentParser
import Foundation
import TridentEngine
import TridentFormats
import TridentTokenizer

struct PerplexityCommand: ParsableCommand, RunsRanks {
    static let configuration = CommandConfiguration(
        commandName: "perplexity",
        abstract: "Perplexity of a text file, by llama.cpp's method (chunks of --context tokens, second halves scored).")

    @OptionGroup var model: ModelOptions
    @OptionGroup var parallel: ParallelOptions
    @OptionGroup var kvCache: KVCacheOptions
    @OptionGroup var logging: LoggingOptions

    @Option(name: [.long, .customShort("f")], help: "Text file to score (UTF-8).")
    var file: String

    @Option(name: [.long, .customShort("c")], parsing: .unconditional, help: "Chunk length in tokens (4...65536).")
    var context: Int = 128

    @Flag(help: "Also print {\"perplexity\":X,\"tokens\":N,\"chunks\":C} as the last line.")
    var json = false

    func validate() throws {
        try OptionCheck.integer(context, in: 4...65536, "--context")
    }

    func run() throws {
        let text = try InputFile.text(file, option: "--file")
        let tokenizer = try ModelTokenizer.load(model.model)
        let tokens = tokenizer.encode(text, parseSpecial: false).map { Int32($0) }
        let bos: Int32? = tokenizer.vocabulary.addBOS ? tokenizer.vocabulary.bosId.map { Int32($0) } : nil
        guard tokens.count >= 2 * context else {
            throw ExitMessage("--file: '\(file)' has \(tokens.count) tokens; --context \(context) needs at least \(2 * context)")
        }
        var session = ParallelSession(model: model, parallel: parallel, capacity: context,
                                        kvType: kvCache.kvType)
        // Chunks are independent: two per stage in each step keep every pipeline stage busy.
        session.slotsPerReplica = parallel.pp > 1 ? 2 * parallel.pp : 1
        let json = self.json, context = self.context
        let progress = ProgressLine(enabled: !json)
        progress.loading(model.model, ranks: parallel.worldSize)
        try session.run { runner in
            progress.modelLoaded(seconds: runner.runtime.loadSeconds)
            let result = try PerplexityEvaluator.evaluate(runner: runner, tokens: tokens, context: context, bos: bos) {
                progress.perplexity(chunk: $0.chunks, of: tokens.count / context, running: $0.perplexity)
            }
            progress.finish()
            print(String(format: "perplexity: %.4f", result.perplexity))
            if json {
                print(try JSONLine.render(["perplexity": result.perplexity, "tokens": result.scoredTokens,
                                           "chunks": result.chunks]))
            }
        }
    }
}
