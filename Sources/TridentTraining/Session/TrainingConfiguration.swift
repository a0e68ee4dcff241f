/// Everything that decides the numbers of a training run apart from the model and the data:
/// batch geometry, optimizer, schedule, clipping, shuffling. Codable so that `--resume` can
/// check that a run continues with the same settings.
public struct TrainingConfiguration: Sendable, Equatable, Codable {
    /// `L`: tokens per sequence (inputs; targets are shifted by one).
    public var sequenceLength: Int
    /// `B`: sequences per micro-batch on one data-parallel replica.
    public var microBatch: Int
    /// `A`: micro-batches summed into one optimizer step.
    public var accumulation: Int
    /// The learning rate of each step (its `totalSteps` is the run's `--steps`).
    public var schedule: LearningRateSchedule
    public var optimizer: AdamWConfiguration
    /// Maximum global gradient norm; 0 disables clipping.
    public var clipNorm: Double
    /// Seed of the data permutation (with `shuffle`) and of anything else random.
    public var seed: UInt64
    /// Whether each pass over the data uses a seeded permutation of the sequences.
    public var shuffle: Bool
    /// Size of a data-parallel all-reduce bucket in bytes (`--bucket-mb` × 2²⁰).
    public var bucketBytes: Int
    /// Dropout probability the model applies (0: none); the session only records it.
    public var dropout: Float = 0

    public init(sequenceLength: Int, microBatch: Int, accumulation: Int = 1, schedule: LearningRateSchedule,
                optimizer: AdamWConfiguration = AdamWConfiguration(), clipNorm: Double = 0, seed: UInt64 = 0,
                shuffle: Bool = false, bucketBytes: Int = 25 << 20) {
        self.sequenceLength = sequenceLength
        self.microBatch = microBatch
        self.accumulation = accumulation
        self.schedule = schedule
        self.optimizer = optimizer
        self.clipNorm = clipNorm
        self.seed = seed
        self.shuffle = shuffle
        self.bucketBytes = bucketBytes
    }

    /// The run's length in optimizer steps.
    public var steps: Int { schedule.totalSteps }

    /// - Throws: `TrainingError.invalidValue` naming the flag of the first value out of range.
    public func validate() throws {
        for (name, value) in [("--seq-len", sequenceLength), ("--micro-batch", microBatch),
                              ("--accumulate", accumulation), ("--bucket-mb", bucketBytes)] where value < 1 {
            throw TrainingError.invalidValue(name: name, expected: ">= 1", found: "\(value)")
        }
        guard dropout >= 0 && dropout < 1 else {
            throw TrainingError.invalidValue(name: "--dropout", expected: "in [0, 1)", found: "\(dropout)")
        }
        guard clipNorm >= 0 && clipNorm.isFinite else {
            throw TrainingError.invalidValue(name: "--clip-norm", expected: "a finite number >= 0 (0: off)", found: "\(clipNorm)")
        }
        try optimizer.validate()
    }

    /// The settings that must be equal for `--resume` to continue a run exactly: all but the
    /// bucket size (it does not change the numbers) and, under a constant schedule, the run's
    /// length (such a run may be resumed for more steps; a cosine schedule depends on it).
    /// - Returns: nil when they match, else the first setting that differs.
    public func difference(from saved: TrainingConfiguration) -> String? {
        let checks: [(String, Bool)] = [
            ("--seq-len", sequenceLength == saved.sequenceLength), ("--micro-batch", microBatch == saved.microBatch),
            ("--accumulate", accumulation == saved.accumulation), ("--lr-schedule", schedule.kind == saved.schedule.kind),
            ("--lr", schedule.learningRate == saved.schedule.learningRate),
            ("--min-lr", schedule.minLearningRate == saved.schedule.minLearningRate),
            ("--warmup", schedule.warmupSteps == saved.schedule.warmupSteps),
            ("--steps (cosine schedule)", schedule.kind == .constant || schedule.totalSteps == saved.schedule.totalSteps),
            ("--beta1", optimizer.beta1 == saved.optimizer.beta1), ("--beta2", optimizer.beta2 == saved.optimizer.beta2),
            ("--eps", optimizer.eps == saved.optimizer.eps), ("--weight-decay", optimizer.weightDecay == saved.optimizer.weightDecay),
            ("--clip-norm", clipNorm == saved.clipNorm), ("--dropout", dropout == saved.dropout), ("--seed", seed == saved.seed), ("--shuffle", shuffle == saved.shuffle),
        ]
        return checks.first { !$0.1 }?.0
    }
}
