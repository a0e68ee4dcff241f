import ArgumentParser
import Foundation
import TridentCollectives
import TridentEngine
import TridentFormats
import TridentLauncher
import TridentModel
import TridentTokenizer
import TridentTraining

struct TrainCommand: ParsableCommand, RunsRanks {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a GGUF model on text files (float32 master weights, AdamW, TP and DP ranks).",
        discussion: """
            One optimizer step takes --micro-batch x --accumulate x --dp sequences of --seq-len tokens, in \
            order through the data (or a seeded permutation per pass with --shuffle); the loss is the mean \
            over all their target tokens. AdamW follows torch.optim.AdamW; --weight-decay applies to \
            matrices and embeddings only, not to norm weights or biases. With --pp, each stage holds its \
            blocks (--pipeline-layers, default balanced) and the step's --accumulate micro-batches run \
            through the --schedule (1f1b or gpipe); a tied embedding is kept on the first and last stage \
            and their gradients summed.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var layout: TrainParallelOptions
    @OptionGroup var pipeline: PipelineTrainingOptions
    @OptionGroup var zero: ZeroOptions
    @OptionGroup var recomputation: RecomputeOptions
    @OptionGroup var tensorOverlap: TensorOverlapOptions
    @OptionGroup var training: TrainingOptions
    @OptionGroup var checkpoint: CheckpointOptions
    @OptionGroup var logging: LoggingOptions

    @Flag(help: "Print one JSON object per step, then a summary line, on stdout.")
    var json = false

    @Option(help: "Write every rank's timeline of the steps as Chrome trace-event JSON to this file (Perfetto, chrome://tracing, `trident trace`).")
    var trace: String?

    func validate() throws {
        if let pp = layout.pp.value { try pipeline.check(pp: pp, accumulate: training.accumulate) }
        if let config = training.config, checkpoint.save != nil || checkpoint.resume != nil {
            throw ValidationError("--save/--resume: a --config '\(config)' model cannot be written as GGUF yet (only --model's own architecture can); drop --save")
        }
        if let resume = checkpoint.resume, resume != "auto" {
            do { _ = try CheckpointDirectory.resolve(resume) } catch {
                throw ValidationError("--resume: no training state in '\(resume)': \(error)")
            }
        }
    }

    func run() throws {
        let parallel = try resolvedLayout()
        var setup = try TrainingSetup.prepare(model: model, parallel: parallel, training: training,
                                              virtualStages: pipeline.virtualStages)
        setup.pipelineSchedule = pipeline.schedule
        setup.zeroStage = zero.zero
        setup.recompute = recomputation.recompute
        setup.tensorOverlap = tensorOverlap.overlap
        let steps = training.steps, json = self.json, tracePath = trace
        let checkpoint = self.checkpoint, source = setup.source, tokens = setup.tokens
        let summary = try TrainingRanks(model: model, parallel: parallel).run { world, ranksHere -> String? in
            let rank = try setup.makeRank(world: world, ranksHere: ranksHere)
            let printing = world.rank == 0
            let log: (String) -> Void = { line in if printing { FileHandle.standardError.write(Data((line + "\n").utf8)) } }
            if let request = checkpoint.resumeRequest { try CheckpointResume.resume(rank.session, request, log: log) }
            let saver = checkpoint.save.map { ShardedCheckpointWriter(root: $0, keep: checkpoint.keep, tokens: tokens) }
            saver?.extraFiles = { directory, trained in
                try CheckpointExport.writeMetadata(source: source, trained: trained, into: directory)
            }
            var last: StepStatistics? = nil
            if tracePath != nil { try rank.startTrace() }
            while rank.session.completedSteps < steps {
                let stats = try rank.step()
                last = stats
                if printing {
                    let average = rank.totals.seconds / Double(max(rank.totals.steps, 1))
                    FileHandle.standardError.write(Data((TrainProgress.line(stats, of: steps, averageSeconds: average) + "\n").utf8))
                    if json { FileHandle.standardOutput.write(Data((try JSONLine.encode(TrainStepLine(stats)) + "\n").utf8)) }
                }
                if let saver, let every = checkpoint.saveEvery, stats.step % every == 0, stats.step < steps {
                    log(Self.describe(try saver.save(rank.session, metrics: stats, asynchronous: checkpoint.saveAsync)))
                }
            }
            if let saver, let root = checkpoint.save {
                let report = try saver.save(rank.session, metrics: last)
                log(Self.describe(report))
                if printing { try CheckpointExport.merge(checkpoint: report.directory, type: checkpoint.saveType, to: root + "/model.gguf") }
                try world.barrier()
            }
            if let tracePath {
                try rank.writeTrace(to: tracePath)
                log("trace: \(tracePath) (trident trace \(tracePath) --out timeline.svg)")
            }
            let reports = try rank.gatherRankReports()
            var summary = TrainSummaryLine(totals: rank.totals, ranks: reports)
            summary.addPipeline(schedule: setup.pipelineSchedule, stages: setup.layout.pipeline,
                                chunks: setup.virtualStages, microBatches: setup.configuration.accumulation)
            summary.addWorkload(layout: setup.layout, configuration: setup.configuration, recompute: setup.recompute, zero: setup.zeroStage)
            return printing ? try JSONLine.encode(summary) : nil
        }
        if json, let summary { FileHandle.standardOutput.write(Data((summary + "\n").utf8)) }
    }

    /// `--tp/--pp/--dp` with `auto` resolved for the launcher's WORLD_SIZE; world rank 0 prints
    /// the choice and why.
    func resolvedLayout() throws -> ParallelOptions {
        let (model, training) = (self.model, self.training)
        let (parallel, reason) = try layout.resolve(architecture: {
            let file = try ModelConfiguration.load(path: model.model)
            return try training.config.map { try TrainingModelConfig.load($0, vocabularySize: file.vocabularySize) } ?? file
        }, microBatch: training.microBatch, globalBatch: training.globalBatch)
        if let reason, (try WorkerEnvironment.current()?.rank ?? 0) == 0 {
            FileHandle.standardError.write(Data((reason + "\n").utf8))
        }
        if layout.hasAuto { try pipeline.check(pp: parallel.pp, accumulate: training.accumulate) }
        return parallel
    }

    /// One line about a save, as world rank 0 saw it.
    static func describe(_ report: CheckpointSaveReport) -> String {
        let megabytes = Double(report.bytes) / 1e6
        let rate = report.stallSeconds > 0 ? Double(report.bytes) / report.stallSeconds / 1e9 : 0
        return report.asynchronous
            ? String(format: "checkpoint step %d: %.1f MB copied in %.3f s (training stall), written in the background", report.step, megabytes, report.stallSeconds)
            : String(format: "checkpoint step %d: %.1f MB written by rank 0 in %.3f s (%.2f GB/s; training stall %.3f s) -> %@",
                     report.step, megabytes, report.stallSeconds, rate, report.stallSeconds, report.directory)
    }
}

/// What every rank of a training run shares: the source model file, its configuration, the
/// token stream and the session settings, checked before any rank starts.
struct TrainingSetup: @unchecked Sendable {
    let source: GGUFFile
    let modelConfiguration: ModelConfiguration
    let configuration: TrainingConfiguration
    let tokens: [Int32]
    let layout: ParallelLayout
    let threadsOption: ModelOptions
    /// Blocks of each (virtual) pipeline stage (one range without pipeline parallelism).
    var stageBlocks: [Range<Int>] = []
    /// Model chunks per pipeline rank (interleaved 1F1B); virtual stage `c·P + r` is chunk `c` of rank `r`.
    var virtualStages = 1
    var pipelineSchedule: PipelineTrainingSchedule = .oneFOneB
    /// `--zero`: whether the data-parallel replicas shard the AdamW moments.
    var zeroStage: ZeroStage = .off
    /// Random weights (seeded) instead of the file's.
    var randomSeed: UInt64? = nil
    /// Activation recomputation on every model chunk (`--recompute`).
    var recompute = false
    /// Tensor-group all-reduces overlapped with computation (`--tp-comm-overlap`).
    var tensorOverlap = false

    /// Reads and checks the model, the layout and the data; one-line errors.
    static func prepare(model: ModelOptions, parallel: ParallelOptions, training: TrainingOptions,
                        virtualStages: Int = 1) throws -> TrainingSetup {
        guard !ModelFiles.isDirectory(model.model) else {
            throw ExitMessage("train --model: '\(model.model)' is a Hugging Face directory; training reads GGUF files only")
        }
        let source = try GGUFFile(path: model.model)
        var architecture: ModelConfiguration? = nil
        if let config = training.config {
            architecture = try TrainingModelConfig.load(config, vocabularySize: ModelConfiguration(gguf: source).vocabularySize)
        }
        let context = try architecture?.contextLength ?? ModelConfiguration(gguf: source).contextLength
        guard training.seqLen <= context else {
            throw ExitMessage("--seq-len \(training.seqLen) is beyond the model's context of \(context) tokens")
        }
        let tokenizer = try Tokenizer(gguf: source)
        let tokens = try TrainingData.tokens(files: training.data, tokenizer: tokenizer)
        guard tokens.count >= training.seqLen + 1 else {
            throw ExitMessage("--data: \(tokens.count) tokens is shorter than one sequence of --seq-len \(training.seqLen) + 1 tokens")
        }
        var setup = try prepare(model: model, parallel: parallel, configuration: try training.configuration(dataParallel: parallel.dp),
                                tokens: tokens, source: source, architecture: architecture, virtualStages: virtualStages)
        if training.initialization == .random { setup.randomSeed = training.seed }
        return setup
    }

    /// Checks the layout against the model, the sequence length against its context, and the
    /// tokens against its vocabulary; one-line errors.
    static func prepare(model: ModelOptions, parallel: ParallelOptions, configuration: TrainingConfiguration,
                        tokens: [Int32], source: GGUFFile? = nil,
                        architecture: ModelConfiguration? = nil, virtualStages: Int = 1) throws -> TrainingSetup {
        let source = try source ?? GGUFFile(path: model.model)
        let modelConfiguration = try architecture ?? ModelConfiguration.load(path: model.model)
        let placement: ModelPlacement
        do {
            placement = try ModelPlacement(configuration: modelConfiguration, layout: parallel.layout(),
                                           pipelineLayers: virtualStages > 1 ? nil : parallel.pipelineLayers,
                                           slotsPerReplica: 1)
        } catch {
            let what = architecture == nil ? "the model" : "the --config model"
            throw ExitMessage("cannot place \(what) on --tp \(parallel.tp) --pp \(parallel.pp) --dp \(parallel.dp): \(error)")
        }
        guard configuration.sequenceLength <= modelConfiguration.contextLength else {
            throw ExitMessage("--seq-len \(configuration.sequenceLength) is beyond the model's context of \(modelConfiguration.contextLength) tokens")
        }
        if let bad = tokens.first(where: { Int($0) >= modelConfiguration.vocabularySize || $0 < 0 }) {
            throw ExitMessage("--data: token \(bad) is outside the model's vocabulary of \(modelConfiguration.vocabularySize)")
        }
        var blocks = placement.partition.ranges
        if virtualStages > 1 {
            let stages = parallel.pp * virtualStages
            do {
                blocks = try (parallel.pipelineLayers.map {
                    try StagePartition.parse($0, layerCount: modelConfiguration.layerCount, stages: stages)
                } ?? StagePartition.balanced(configuration: modelConfiguration, stages: stages)).ranges
            } catch {
                throw ExitMessage("cannot cut the model into --pp \(parallel.pp) x --virtual-stages \(virtualStages) = \(stages) virtual stages: \(error)")
            }
        }
        return TrainingSetup(source: source, modelConfiguration: modelConfiguration, configuration: configuration,
                             tokens: tokens, layout: try parallel.layout(), threadsOption: model,
                             stageBlocks: blocks, virtualStages: virtualStages)
    }

    /// This rank's groups, model shard and session. Every rank of `world` must call this.
    func makeRank(world: any Communicator, ranksHere: Int) throws -> TrainingRank {
        let stages = stageBlocks, chunks = virtualStages, ranks = layout.pipeline, recompute = self.recompute
        let overlap = tensorOverlap && layout.tensor > 1 ? TensorParallelOverlap() : nil
        let rank = try TrainingRank(world: world, layout: layout, configuration: configuration, tokens: tokens,
                                threads: threadsOption.threadsPerRank(ranksOnThisMachine: ranksHere),
                                pipelineSchedule: pipelineSchedule, zero: zeroStage) { groups, pool in
            let rank = groups.coordinates.pipeline
            let models = try (0..<chunks).map { c in
                let stage = stages.count > 1 ? TrainingStage.stage(c * ranks + rank, of: stages) : nil
                let model = try TrainingModelLoader.load(source: source, configuration: modelConfiguration,
                                                         randomSeed: randomSeed, groups: groups, pool: pool, stage: stage)
                model.recomputeActivations = recompute
                model.tensorOverlap = overlap
                return model
            }
            if models.count == 1 { return models[0] }
            return ChunkedStageModel(chunks: models)
        }
        rank.session.tensorOverlap = overlap
        return rank
    }
}
