import ArgumentParser
import Foundation
import TridentEngine
import TridentModel

/// `trident bench model`: prefill and decode speed, memory, communication share and, with
/// pipeline stages, each rank's busy fraction (the measured bubble) against the schedule's.
struct BenchModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Prefill and decode tokens/s for --prompts concurrent sequences, per-rank busy fraction and peak RSS.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var parallel: ParallelOptions

    @Option(help: "Prompt length of each sequence.")
    var promptTokens: Int = 128

    @Option(help: "Tokens decoded one at a time by each sequence.")
    var decodeTokens: Int = 128

    @Option(help: "Sequences in flight at once (spread over the --dp replicas; a pipeline needs several to overlap).")
    var prompts: Int = 1

    @Option(help: "Repetitions; the best is reported.")
    var repetitions: Int = 2

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard promptTokens >= 1, decodeTokens >= 1 else {
            throw ValidationError("--prompt-tokens and --decode-tokens must be at least 1")
        }
        guard prompts >= 1 else { throw ValidationError("--prompts must be at least 1") }
    }

    func run() throws {
        var session = ParallelSession(model: model, parallel: parallel, capacity: promptTokens + decodeTokens + 1)
        session.slotsPerReplica = (prompts + parallel.dp - 1) / parallel.dp
        let parameters = BenchParameters(promptTokens: promptTokens, decodeTokens: decodeTokens, prompts: prompts,
                                         repetitions: max(1, repetitions))
        let json = self.json, parallel = self.parallel, modelPath = model.model
        let threads = model.threadsPerRank(ranksOnThisMachine: parallel.worldSize)
        try session.run { runner in
            let measured = try parameters.measure(runner)
            let report = BenchModelReport(parallel: parallel, placement: runner.placement, threads: threads,
                                          parameters: parameters, measured: measured)
            print(json ? try report.jsonLine() : report.text(model: modelPath))
        }
    }
}

/// What `bench model` runs: `prompts` sequences, each a `promptTokens` prompt then
/// `decodeTokens` greedy steps, all in flight together.
struct BenchParameters {
    let promptTokens: Int
    let decodeTokens: Int
    let prompts: Int
    let repetitions: Int

    struct Measured {
        var prefillSeconds = Double.infinity
        var decodeSeconds = Double.infinity
        /// Statistics of the last repetition's decode phase.
        var ranks: [RankStatistics] = []
    }

    /// Sequence `j`'s prompt: deterministic ordinary tokens (ids past the special ones), different per sequence.
    func prompt(_ j: Int, vocabulary: Int) -> [Int32] {
        (0..<promptTokens).map { Int32(100 + (($0 + 31 * j) * 7919) % (vocabulary - 100)) }
    }

    /// Runs the repetitions; the best prefill and decode times are kept. One step prefills every
    /// prompt (cut into chunks when a pipeline needs more micro-batches), then each decode step
    /// runs one token of every sequence.
    func measure(_ runner: DistributedRunner) throws -> Measured {
        let vocabulary = runner.configuration.vocabularySize
        let chunks = BatchGenerator.chunksPerPrompt(stages: runner.pipelineStages,
                                                    promptsInStep: min(prompts, runner.placement.slotsPerReplica))
        var measured = Measured()
        for _ in 0..<repetitions {
            let prefill = (0..<prompts).flatMap {
                BatchGenerator.prefillMicroBatches(prompt($0, vocabulary: vocabulary), slot: $0, chunks: chunks,
                                                   longestChunk: 512)
            }
            let t0 = DispatchTime.now().uptimeNanoseconds
            var logits = try runner.forward(prefill).filter { !$0.isEmpty }
            let t1 = DispatchTime.now().uptimeNanoseconds
            try runner.resetStatistics()
            let t2 = DispatchTime.now().uptimeNanoseconds
            for step in 0..<decodeTokens {
                let batch = (0..<prompts).map {
                    SequenceChunk(slot: $0, start: promptTokens + step, tokens: [Sampler.argmax(logits[$0])],
                                       logits: .last)
                }
                logits = try runner.forward(batch)
            }
            let t3 = DispatchTime.now().uptimeNanoseconds
            measured.ranks = try runner.rankStatistics()
            measured.prefillSeconds = min(measured.prefillSeconds, Double(t1 - t0) / 1e9)
            measured.decodeSeconds = min(measured.decodeSeconds, Double(t3 - t2) / 1e9)
        }
        return measured
    }
}
