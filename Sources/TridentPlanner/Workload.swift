/// What the devices are asked to do.
public enum Workload: Sendable, Equatable {
    case inference(InferenceWorkload)
    case training(TrainingWorkload)
}

/// Serving: `batchSize` concurrent requests, each a prompt followed by generated tokens.
public struct InferenceWorkload: Sendable, Equatable {
    /// Concurrent sequences across the whole cluster (split over data-parallel replicas).
    public var batchSize: Int
    /// Prompt tokens per sequence.
    public var promptLength: Int
    /// Generated tokens per sequence.
    public var outputLength: Int
    /// Storage of the weights (quantized formats included).
    public var weightFormat: NumericFormat
    /// Storage of the KV cache.
    public var kvCacheFormat: NumericFormat
    /// Format of activations sent between devices and held in working buffers.
    public var activationFormat: NumericFormat

    public init(batchSize: Int = 1, promptLength: Int = 512, outputLength: Int = 128,
                weightFormat: NumericFormat = .f16, kvCacheFormat: NumericFormat = .f16,
                activationFormat: NumericFormat = .f16) {
        precondition(batchSize >= 1 && promptLength >= 1 && outputLength >= 1,
                     "batch, prompt and output lengths must be at least 1")
        precondition(!activationFormat.isQuantizedBlockFormat, "activations use a float format")
        self.batchSize = batchSize
        self.promptLength = promptLength
        self.outputLength = outputLength
        self.weightFormat = weightFormat
        self.kvCacheFormat = kvCacheFormat
        self.activationFormat = activationFormat
    }
}

/// The optimizer, which sets the bytes of state kept per parameter.
public enum Optimizer: String, Sendable, Codable {
    /// Adam/AdamW: two fp32 moments per parameter.
    case adam
    /// SGD with momentum: one fp32 buffer per parameter.
    case sgd

    /// fp32 state bytes per parameter, excluding any fp32 master copy.
    public var stateBytesPerParameter: Double {
        switch self {
        case .adam: return 8
        case .sgd: return 4
        }
    }
}

/// Training: one optimizer step processes `globalBatchSize` sequences of `sequenceLength`.
public struct TrainingWorkload: Sendable, Equatable {
    /// Sequences per optimizer step, across all data-parallel replicas.
    public var globalBatchSize: Int
    /// Sequences per micro-batch on one pipeline.
    public var microBatchSize: Int
    /// Tokens per sequence.
    public var sequenceLength: Int
    /// Optimizer whose state is kept per parameter.
    public var optimizer: Optimizer
    /// bf16/f16 weights, activations and gradients with an fp32 master copy (ZeRO's
    /// 2 + 2 + 12 = 16 bytes per parameter with Adam); otherwise everything in fp32.
    public var mixedPrecision: Bool
    /// Shard optimizer states (and master weights) over the data-parallel group (ZeRO-1).
    public var shardOptimizerStates: Bool
    /// Recompute each layer's activations in backward, keeping only its input.
    public var recomputeActivations: Bool
    /// Which activations a micro-batch keeps for its backward.
    public var activations: ActivationAccounting

    public init(globalBatchSize: Int = 64, microBatchSize: Int = 1, sequenceLength: Int = 2048,
                optimizer: Optimizer = .adam, mixedPrecision: Bool = true,
                shardOptimizerStates: Bool = false, recomputeActivations: Bool = false,
                activations: ActivationAccounting = .megatron) {
        precondition(globalBatchSize >= 1 && microBatchSize >= 1 && sequenceLength >= 1,
                     "batch sizes and sequence length must be at least 1")
        self.globalBatchSize = globalBatchSize
        self.microBatchSize = microBatchSize
        self.sequenceLength = sequenceLength
        self.optimizer = optimizer
        self.mixedPrecision = mixedPrecision
        self.shardOptimizerStates = shardOptimizerStates
        self.recomputeActivations = recomputeActivations
        self.activations = activations
    }

    /// What `trident train` runs: float32 everything (weights, gradients, both AdamW moments:
    /// 16 bytes per parameter, no separate master copy), AdamW, trident's saved activations.
    /// - Parameters: the run's `--seq-len`, `--micro-batch`, sequences per step over all
    ///   replicas (micro-batch x accumulate x DP), `--zero 1` and `--recompute`.
    public static func trident(globalBatchSize: Int, microBatchSize: Int, sequenceLength: Int,
                               shardOptimizerStates: Bool = false, recomputeActivations: Bool = false) -> TrainingWorkload {
        TrainingWorkload(globalBatchSize: globalBatchSize, microBatchSize: microBatchSize, sequenceLength: sequenceLength,
                         optimizer: .adam, mixedPrecision: false, shardOptimizerStates: shardOptimizerStates,
                         recomputeActivations: recomputeActivations, activations: .trident)
    }

    /// Bytes per element of weights, activations and gradients.
    public var computeBytes: Double { mixedPrecision ? 2 : 4 }
}

/// Which activations a training micro-batch keeps on a stage until its backward.
public enum ActivationAccounting: String, Sendable, Codable {
    /// Korthikanti et al. for Megatron without flash attention or sequence parallelism (the
    /// softmax probabilities are kept), in the compute dtype; f32 logits on the last stage.
    case megatron
    /// Trident's layers, in f32: per token and block its input, both norm outputs and the
    /// middle residual (4 x hidden, replicated over TP), rotated Q and the attention output,
    /// K and V (this rank's heads), one log-sum-exp per query head, and the MLP's gate, up and
    /// gated product (up and activation without a gate); with recomputation the block's input
    /// only. The last stage adds the final norm's input and output and the logit gradient
    /// (this rank's vocabulary rows).
    case trident
}

extension NumericFormat {
    var isQuantizedBlockFormat: Bool { blockSize > 1 }
}
