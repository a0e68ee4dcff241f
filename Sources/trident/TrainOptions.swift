import ArgumentParser
import TridentTraining

/// The GGUF tensor type of a saved checkpoint.
enum SaveType: String, ExpressibleByArgument, CaseIterable {
    case f32, f16, bf16
    case q8_0 = "q8_0"
}

/// Where the weights of a training run start.
enum WeightInitialization: String, ExpressibleByArgument, CaseIterable {
    /// The --model file's weights (dequantized to float32).
    case gguf
    /// Megatron's initialisation (normal, std 0.02; output projections scaled by 1/sqrt(2 x layers);
    /// norms one, biases zero), seeded by --seed, the same in every layout; the architecture
    /// and tokenizer are --model's.
    case random
}

/// The flags of `trident train` that decide the numbers of a run (data, batch, optimizer).
struct TrainingOptions: ParsableArguments {
    @Option(parsing: .unconditionalSingleValue,
            help: "UTF-8 text file to train on (repeatable; files are joined with the model's EOS token).")
    var data: [String] = []

    @Option(parsing: .unconditional, help: "Tokens per sequence L (targets are the next L tokens).")
    var seqLen: Int

    @Option(parsing: .unconditional, help: "Sequences per micro-batch on each data-parallel replica.")
    var microBatch: Int

    @Option(parsing: .unconditional, help: "Micro-batches summed into one optimizer step.")
    var accumulate: Int = 1

    @Option(parsing: .unconditional,
            help: "Sequences per optimizer step over all replicas (overrides --accumulate: G / (--micro-batch x --dp)); stored in checkpoints, a resume must keep it.")
    var globalBatch: Int?

    @Option(parsing: .unconditional, help: "Optimizer steps of the whole run (a resumed run counts from its start).")
    var steps: Int

    @Option(parsing: .unconditional, help: "Peak learning rate.")
    var lr: Double

    @Option(parsing: .unconditional, help: "Final learning rate of the cosine schedule.")
    var minLr: Double = 0

    @Option(parsing: .unconditional, help: "Linear warm-up steps of the cosine schedule.")
    var warmup: Int = 0

    @Option(help: "Learning-rate schedule: constant, or cosine (linear warm-up, then cosine to --min-lr).")
    var lrSchedule: LearningRateSchedule.Kind = .constant

    @Option(parsing: .unconditional,
            help: "AdamW decoupled weight decay, applied to matrices and embeddings only (not to norm weights or biases).")
    var weightDecay: Float = 0

    @Option(parsing: .unconditional, help: "AdamW beta1.")
    var beta1: Float = 0.9

    @Option(parsing: .unconditional, help: "AdamW beta2.")
    var beta2: Float = 0.95

    @Option(parsing: .unconditional, help: "AdamW epsilon.")
    var eps: Float = 1e-8

    @Option(parsing: .unconditional, help: "Clip the global gradient norm to this value (0: off).")
    var clipNorm: Double = 0

    @Option(parsing: .unconditional, help: "Seed of the data shuffle.")
    var seed: UInt64 = 0

    @Flag(help: "Visit the sequences in a seeded permutation per pass instead of in order.")
    var shuffle = false

    @Option(name: .customLong("init"), help: "Initial weights: gguf (the --model file's) or random (Megatron's, seeded by --seed; the architecture is --config's, else --model's; the tokenizer is --model's).")
    var initialization: WeightInitialization = .gguf

    @Option(help: ArgumentHelp("Architecture of a model trained from scratch (with --init random): a JSON file of Hugging Face config.json keys, or a preset (\(TrainingModelConfig.presets.keys.sorted().joined(separator: ", "))). The tokenizer and vocabulary are --model's.", valueName: "file|preset"))
    var config: String?

    @Option(parsing: .unconditional,
            help: "Dropout probability on attention probabilities and both residual branches (masks seeded by --seed, the same in every layout).")
    var dropout: Float = 0

    @Option(parsing: .unconditional, help: "Data-parallel all-reduce bucket size in MiB.")
    var bucketMb: Int = 25

    /// Largest sequence count a step may hold, a guard against absurd values.
    static let maxSequencesPerStep = 1 << 20

    func validate() throws {
        guard !data.isEmpty else { throw ValidationError("--data: give at least one text file") }
        try OptionCheck.integer(seqLen, in: 1...(1 << 20), "--seq-len")
        try OptionCheck.integer(microBatch, in: 1...4096, "--micro-batch")
        try OptionCheck.integer(accumulate, in: 1...65536, "--accumulate")
        if let globalBatch { try OptionCheck.integer(globalBatch, in: 1...Self.maxSequencesPerStep, "--global-batch") }
        try OptionCheck.integer(steps, in: 1...(1 << 30), "--steps")
        try OptionCheck.real(lr, "--lr", "a finite number > 0") { $0 > 0 }
        try OptionCheck.real(minLr, "--min-lr", "in [0, --lr]") { $0 >= 0 && $0 <= lr }
        try OptionCheck.integer(warmup, in: 0...steps, "--warmup")
        try OptionCheck.real(weightDecay, "--weight-decay", "a finite number >= 0") { $0 >= 0 }
        try OptionCheck.real(beta1, "--beta1", "in [0, 1)") { $0 >= 0 && $0 < 1 }
        try OptionCheck.real(beta2, "--beta2", "in [0, 1)") { $0 >= 0 && $0 < 1 }
        try OptionCheck.real(eps, "--eps", "a finite number >= 0") { $0 >= 0 }
        try OptionCheck.real(clipNorm, "--clip-norm", "a finite number >= 0 (0: off)") { $0 >= 0 }
        try OptionCheck.integer(bucketMb, in: 1...65536, "--bucket-mb")
        try OptionCheck.real(dropout, "--dropout", "in [0, 1)") { $0 >= 0 && $0 < 1 }
        if config != nil && initialization != .random {
            throw ValidationError("--config needs --init random (a --config model has no weights to load)")
        }
        guard microBatch * accumulate <= Self.maxSequencesPerStep else {
            throw ValidationError("--micro-batch x --accumulate must be at most \(Self.maxSequencesPerStep), got \(microBatch * accumulate)")
        }
    }

    /// The accumulation of a `dataParallel`-replica run: `--global-batch` / (micro-batch x DP), else `--accumulate`.
    /// - Throws: `ExitMessage` when micro-batch x DP does not divide `--global-batch`.
    func accumulation(dataParallel: Int) throws -> Int {
        guard let globalBatch else { return accumulate }
        let perStep = microBatch * dataParallel
        guard globalBatch % perStep == 0 else {
            throw ExitMessage("--global-batch \(globalBatch) is not a multiple of --micro-batch \(microBatch) x --dp \(dataParallel) = \(perStep)")
        }
        return globalBatch / perStep
    }

    /// The session's configuration. - Throws: `TrainingError` (already excluded by `validate`),
    /// `ExitMessage` for a `--global-batch` the layout does not divide.
    func configuration(dataParallel: Int = 1) throws -> TrainingConfiguration {
        var configuration = TrainingConfiguration(sequenceLength: seqLen, microBatch: microBatch,
                              accumulation: try accumulation(dataParallel: dataParallel),
                              schedule: try LearningRateSchedule(kind: lrSchedule, learningRate: lr, minLearningRate: minLr,
                                                                 warmupSteps: warmup, totalSteps: steps),
                              optimizer: AdamWConfiguration(beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay),
                              clipNorm: clipNorm, seed: seed, shuffle: shuffle, bucketBytes: bucketMb << 20)
        configuration.dropout = dropout
        return configuration
    }
}

extension LearningRateSchedule.Kind: ExpressibleByArgument {}

/// Saving and resuming (`--save`, `--save-every`, `--save-type`, `--keep`, `--save-async`, `--resume`).
struct CheckpointOptions: ParsableArguments {
    @Option(help: "Checkpoint directory: DIR/step-N/ sharded checkpoints (each rank writes its slices, weights and AdamW moments, plus manifest.json), DIR/latest, and the merged DIR/model.gguf at the end of the run.")
    var save: String?

    @Option(parsing: .unconditional, help: "Also checkpoint every K steps during the run (needs --save).")
    var saveEvery: Int?

    @Option(help: "Tensor type of the matrices of the merged DIR/model.gguf: f32, f16, bf16 or q8_0 (norm weights stay f32).")
    var saveType: SaveType = .f32

    @Option(parsing: .unconditional, help: "Keep only the newest K step-N checkpoints (default: all).")
    var keep: Int?

    @Flag(help: "Copy the weights and moments to memory and write the checkpoint on a background thread while training goes on.")
    var saveAsync = false

    @Option(help: "Continue from a checkpoint: a --save directory (its latest), one step-N directory, or 'auto' (the newest valid one under --save, else a fresh start). Any layout; the same model, data, global batch and settings.")
    var resume: String?

    func validate() throws {
        if let saveEvery {
            try OptionCheck.integer(saveEvery, in: 1...(1 << 30), "--save-every")
            guard save != nil else { throw ValidationError("--save-every needs --save DIR") }
        }
        if let keep {
            try OptionCheck.integer(keep, in: 1...(1 << 20), "--keep")
            guard save != nil else { throw ValidationError("--keep needs --save DIR") }
        }
        if saveAsync && save == nil { throw ValidationError("--save-async needs --save DIR") }
        if let save, save.isEmpty { throw ValidationError("--save: give a directory") }
        if resume == "auto" && save == nil { throw ValidationError("--resume auto needs --save DIR (where to look for checkpoints)") }
        if let resume, resume.isEmpty { throw ValidationError("--resume: give a directory or 'auto'") }
    }

    /// What `--resume` asks for (nil: a fresh run).
    var resumeRequest: CheckpointResume.Request? {
        guard let resume else { return nil }
        if resume == "auto", let save { return .auto(root: save) }
        return .directory(resume)
    }
}
