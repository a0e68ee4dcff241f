import ArgumentParser
import Foundation
import TridentModel
import TridentTraining

/// `trident bench train`: forward + backward + AdamW tokens/s on synthetic tokens.
struct BenchTrainCommand: ParsableCommand, RunsRanks {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training throughput: forward + backward + optimizer tokens/s, peak RSS and exposed communication per rank.",
        discussion: """
            Runs --warmup-steps untimed steps, then --steps timed ones, on seeded random tokens (constant lr 1e-5). \
            With --pp, each stage also reports its measured idle fraction of the forward/backward phase beside \
            the predicted bubble (P-1)/(M+P-1), M = --accumulate. Every stage reports the most micro-batches \
            (and bytes) of saved activations it held at once (without --pp: one micro-batch); --recompute \
            keeps only each block's input and shows the memory saved and the time it costs. The --json line \
            is a measurement `trident plan --mode training --measure FILE` reads.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var parallel: ParallelOptions
    @OptionGroup var pipeline: PipelineTrainingOptions
    @OptionGroup var zero: ZeroOptions
    @OptionGroup var recomputation: RecomputeOptions
    @OptionGroup var tensorOverlap: TensorOverlapOptions
    @OptionGroup var logging: LoggingOptions

    @Option(parsing: .unconditional, help: "Tokens per sequence.")
    var seqLen: Int = 128

    @Option(parsing: .unconditional, help: "Sequences per micro-batch on each data-parallel replica.")
    var microBatch: Int = 4

    @Option(parsing: .unconditional, help: "Micro-batches per optimizer step (the pipeline's M with --pp).")
    var accumulate: Int = 1

    @Option(parsing: .unconditional, help: "Timed optimizer steps.")
    var steps: Int = 5

    @Option(parsing: .unconditional, help: "Untimed optimizer steps first.")
    var warmupSteps: Int = 2

    @Option(help: "Write every rank's timeline of the timed steps as Chrome trace-event JSON to this file.")
    var trace: String?

    @Flag(help: "Print the summary as one JSON line (the last line of `trident train --json`).")
    var json = false

    func validate() throws {
        try OptionCheck.integer(accumulate, in: 1...4096, "--accumulate")
        try pipeline.check(pp: parallel.pp, accumulate: accumulate)
        try OptionCheck.integer(seqLen, in: 1...(1 << 20), "--seq-len")
        try OptionCheck.integer(microBatch, in: 1...4096, "--micro-batch")
        try OptionCheck.integer(steps, in: 1...10_000, "--steps")
        try OptionCheck.integer(warmupSteps, in: 0...10_000, "--warmup-steps")
    }

    func run() throws {
        var setup = try prepare()
        setup.pipelineSchedule = pipeline.schedule
        setup.zeroStage = zero.zero
        setup.recompute = recomputation.recompute
        setup.tensorOverlap = tensorOverlap.overlap
        let steps = self.steps, warmup = warmupSteps, schedule = pipeline.schedule, stages = parallel.pp
        let accumulate = self.accumulate, chunks = pipeline.virtualStages, tracePath = trace
        let summary = try TrainingRanks(model: model, parallel: parallel).run { world, ranksHere -> TrainSummaryLine? in
            let rank = try setup.makeRank(world: world, ranksHere: ranksHere)
            for _ in 0..<warmup { _ = try rank.step(counted: false) }
            if tracePath != nil { try rank.startTrace() }
            for _ in 0..<steps { _ = try rank.step() }
            if let tracePath { try rank.writeTrace(to: tracePath) }
            let reports = try rank.gatherRankReports()
            var summary = TrainSummaryLine(totals: rank.totals, ranks: reports)
            summary.addPipeline(schedule: schedule, stages: stages, chunks: chunks, microBatches: accumulate)
            summary.addWorkload(layout: setup.layout, configuration: setup.configuration, recompute: setup.recompute, zero: setup.zeroStage)
            return world.rank == 0 ? summary : nil
        }
        guard let summary else { return }
        if json { print(try JSONLine.encode(summary)); return }
        print(String(format: "train  tp %d  pp %d  dp %d  zero %d  seq-len %d  micro-batch %d  accumulate %d%@: %.1f tokens/s over %d steps (%.3f s/step)",
                     parallel.tp, parallel.pp, parallel.dp, zero.zero.rawValue, seqLen, microBatch, accumulate,
                     recomputation.recompute ? "  recompute" : "", summary.tokensPerSecond ?? 0,
                     summary.steps, summary.seconds / Double(max(summary.steps, 1))))
        if let idle = summary.meanIdleFraction, let predicted = summary.predictedBubble {
            print(String(format: "  schedule %@: mean_idle_fraction %.3f  predicted_bubble %.3f", pipeline.schedule.rawValue,
                         idle, predicted))
        }
        for rank in summary.ranks {
            print(String(format: "  rank %d (tp %d dp %d): peak RSS %.1f MiB, optimizer state %.1f MiB, communication %.3f s, exposed %.3f s (%.1f%% of the time)",
                         rank.base.rank, rank.base.tensor, rank.base.data, Double(rank.base.peakRSSBytes) / 1_048_576,
                         Double(rank.optimizerStateBytes) / 1_048_576,
                         rank.base.communicationSeconds, rank.exposedCommunicationSeconds,
                         100 * rank.exposedCommunicationSeconds / max(rank.base.windowSeconds, 1e-9)))
            if let stage = rank.pipeline {
                let idle = stage.idleFraction.map { String(format: "idle_fraction %.3f, ", $0) } ?? ""
                print(String(format: "    stage %d: %@peak saved activations %d micro-batches, %.1f MiB",
                             rank.base.pipeline, idle, stage.peakActivationMicroBatches,
                             Double(stage.peakActivationBytes) / 1_048_576))
            }
        }
    }

    /// The model, the layout, and seeded random tokens for every step.
    private func prepare() throws -> TrainingSetup {
        let configuration = try ModelConfiguration.load(path: model.model)
        guard seqLen <= configuration.contextLength else {
            throw ExitMessage("--seq-len \(seqLen) is beyond the model's context of \(configuration.contextLength) tokens")
        }
        let needed = (warmupSteps + steps) * microBatch * accumulate * parallel.dp * seqLen + 1
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let tokens = (0..<needed).map { _ -> Int32 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int32(truncatingIfNeeded: (state >> 33) % UInt64(configuration.vocabularySize))
        }
        let training = TrainingConfiguration(sequenceLength: seqLen, microBatch: microBatch, accumulation: accumulate,
                                             schedule: try LearningRateSchedule(kind: .constant, learningRate: 1e-5,
                                                                                totalSteps: warmupSteps + steps))
        return try TrainingSetup.prepare(model: model, parallel: parallel, configuration: training, tokens: tokens,
                                         virtualStages: pipeline.virtualStages)
    }
}
