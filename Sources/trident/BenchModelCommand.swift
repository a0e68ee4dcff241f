import ArgumentParser
import Foundation
import TridentEngine
import TridentModel

/// `trident bench model`: prefill and decode speed, memory, communication share and, with
/// pipeline stages, each rank's busy fraction (the measured bubble) against the schedule's.
struct BenchModelCommand: ParsableCommand, RunsRanks {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Prefill and decode tokens/s for --prompts concurrent sequences, per-rank busy fraction and peak RSS.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var parallel: ParallelOptions
    @OptionGroup var kvCache: KVCacheOptions
    @OptionGroup var logging: LoggingOptions

    @Option(parsing: .unconditional, help: "Prompt length of each sequence.")
    var promptTokens: Int = 128

    @Option(parsing: .unconditional, help: "Tokens decoded one at a time by each sequence.")
    var decodeTokens: Int = 128

    @Option(parsing: .unconditional, help: "Sequences in flight at once (spread over the --dp replicas; a pipeline needs several to overlap).")
    var prompts: Int = 1

    @Option(parsing: .unconditional, help: "Repetitions; the best is reported.")
    var repetitions: Int = 2

    @Option(help: "Decode schedule with --pp: overlapped (each group of sequences re-enters the pipeline as soon as its logits are back) or gpipe (every step fills and drains the pipeline).")
    var schedule: DecodeSchedule = .overlapped

    @Flag(help: "Print one JSON object.")
    var json = false

    @Option(help: "Write every rank's timeline (prefill, decode steps, blocks, collectives with bytes) as Chrome trace-event JSON to this file (Perfetto, chrome://tracing, `trident trace`).")
    var trace: String?

    func validate() throws {
        try OptionCheck.integer(promptTokens, in: 1...(1 << 20), "--prompt-tokens")
        try OptionCheck.integer(decodeTokens, in: 1...(1 << 20), "--decode-tokens")
        try OptionCheck.integer(prompts, in: 1...(1 << 16), "--prompts")
        try OptionCheck.integer(repetitions, in: 1...1000, "--repetitions")
        try InferenceTrace.validate(trace)
    }

    func run() throws {
        var session = ParallelSession(model: model, parallel: parallel, capacity: promptTokens + decodeTokens + 1,
                                        kvType: kvCache.kvType)
        session.slotsPerReplica = (prompts + parallel.dp - 1) / parallel.dp
        session.tracePath = trace
        let parameters = BenchParameters(promptTokens: promptTokens, decodeTokens: decodeTokens, prompts: prompts,
                                         repetitions: repetitions, schedule: schedule)
        let json = self.json, parallel = self.parallel, modelPath = model.model, kvType = kvCache.kvType
        let threads = model.threadsPerRank(ranksOnThisMachine: parallel.worldSize)
        let progress = ProgressLine(enabled: !json)
        progress.loading(modelPath, ranks: parallel.worldSize)
        try session.run { runner in
            progress.modelLoaded(seconds: runner.runtime.loadSeconds)
            let measured = try parameters.measure(runner) { repetition, prefill, decode in
                progress.note(String(format: "repetition %d/%d: prefill %.3f s, decode %.3f s", repetition,
                                     parameters.repetitions, prefill, decode))
            }
            var report = BenchModelReport(parallel: parallel, placement: runner.placement, threads: threads,
                                          parameters: parameters, measured: measured,
                                          groupsInFlight: parameters.groups(runner).count)
            report.kvType = kvType
            print(json ? try report.jsonLine() : report.text(model: modelPath))
        }
    }
}

/// How decode steps go through a pipeline.
enum DecodeSchedule: String, ExpressibleByArgument, CaseIterable {
    /// The sequences are split into one group per stage, each with its own step in flight:
    /// a group re-enters stage 0 as soon as its logits are back (steady state, no flush).
    case overlapped
    /// One step for all sequences, fused into one micro-batch per stage, filling and draining
    /// the pipeline every step (GPipe's bubble, `(P-1)/(M+P-1)`).
    case gpipe
}

/// What `bench model` runs: `prompts` sequences, each a `promptTokens` prompt then
/// `decodeTokens` greedy steps, all in flight together.
struct BenchParameters {
    let promptTokens: Int
    let decodeTokens: Int
    let prompts: Int
    let repetitions: Int
    let schedule: DecodeSchedule

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
    /// prompt (cut into chunks when a pipeline needs more micro-batches), then every sequence
    /// decodes `decodeTokens` tokens, greedily, following `schedule`.
    /// - Parameter onRepetition: called after each repetition with its number (from 1) and its
    ///   prefill and decode seconds.
    func measure(_ runner: DistributedRunner,
                 onRepetition: (Int, Double, Double) -> Void = { _, _, _ in }) throws -> Measured {
        let vocabulary = runner.configuration.vocabularySize
        let chunks = BatchGenerator.chunksPerPrompt(stages: runner.pipelineStages,
                                                    promptsInStep: min(prompts, runner.placement.slotsPerReplica))
        var measured = Measured()
        for repetition in 1...repetitions {
            let prefill = (0..<prompts).flatMap {
                BatchGenerator.prefillChunks(prompt($0, vocabulary: vocabulary), slot: $0, chunks: chunks,
                                             longestChunk: 512)
            }
            let t0 = DispatchTime.now().uptimeNanoseconds
            let first = try runner.forward(prefill).filter { !$0.isEmpty }.map(Sampler.argmax)
            let t1 = DispatchTime.now().uptimeNanoseconds
            try runner.resetStatistics()
            let t2 = DispatchTime.now().uptimeNanoseconds
            try decode(runner, first: first)
            let t3 = DispatchTime.now().uptimeNanoseconds
            measured.ranks = try runner.rankStatistics()
            measured.prefillSeconds = min(measured.prefillSeconds, Double(t1 - t0) / 1e9)
            measured.decodeSeconds = min(measured.decodeSeconds, Double(t3 - t2) / 1e9)
            onRepetition(repetition, Double(t1 - t0) / 1e9, Double(t3 - t2) / 1e9)
        }
        return measured
    }

    /// The sequences' slots in groups that each have one step in flight.
    func groups(_ runner: DistributedRunner) -> [[Int]] {
        guard schedule == .overlapped else { return [Array(0..<prompts)] }
        return runner.overlapGroups.map { $0.filter { $0 < prompts } }.filter { !$0.isEmpty }
    }

    /// `decodeTokens` steps of every sequence, starting from the tokens sampled after the prompt.
    private func decode(_ runner: DistributedRunner, first: [Int32]) throws {
        let groups = groups(runner)
        var next = first               // by slot
        var steps = [Int](repeating: 0, count: groups.count)
        func submit(_ g: Int) throws {
            let chunks = groups[g].map {
                SequenceChunk(slot: $0, start: promptTokens + steps[g], tokens: [next[$0]], logits: .last)
            }
            try runner.submit(chunks, microBatches: groups.count > 1 ? 1 : nil)
        }
        for g in groups.indices { try submit(g) }
        var running = groups.count, g = 0
        while running > 0 {
            if steps[g] < decodeTokens {
                let logits = try runner.collect()
                for (i, slot) in groups[g].enumerated() { next[slot] = Sampler.argmax(logits[i]) }
                steps[g] += 1
                if steps[g] < decodeTokens { try submit(g) } else { running -= 1 }
            }
            g = (g + 1) % groups.count
        }
    }
}
