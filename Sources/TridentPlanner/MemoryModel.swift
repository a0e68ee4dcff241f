/// Bytes one device needs, by kind.
public struct MemoryBreakdown: Sendable, Equatable, Codable {
    public var weights: Double = 0
    public var kvCache: Double = 0
    public var activations: Double = 0
    public var gradients: Double = 0
    public var optimizerStates: Double = 0

    public init(weights: Double = 0, kvCache: Double = 0, activations: Double = 0,
                gradients: Double = 0, optimizerStates: Double = 0) {
        self.weights = weights
        self.kvCache = kvCache
        self.activations = activations
        self.gradients = gradients
        self.optimizerStates = optimizerStates
    }

    /// Sum of all kinds.
    public var total: Double { weights + kvCache + activations + gradients + optimizerStates }

    enum CodingKeys: String, CodingKey {
        case weights, activations, gradients
        case kvCache = "kv_cache"
        case optimizerStates = "optimizer_states"
    }
}

/// Memory per device for a configuration: every (tensor rank, stage) is priced and the
/// largest is reported, so uneven head, column and layer splits cost what they really cost.
public enum MemoryModel {
    /// KV-cache bytes per token of context for the whole model (no parallelism):
    /// `2 (K and V) x layers x kvHeads x headDim x bytes`.
    public static func kvCacheBytesPerToken(model: PlannerModel, format: NumericFormat) -> Double {
        let c = model.configuration
        return 2 * Double(c.layerCount) * format.rowBytes(c.kvHeadCount * c.headDimension)
    }

    /// The heaviest device's memory for `configuration` running `workload`.
    public static func perDevice(model: PlannerModel, configuration: ParallelConfiguration,
                                 workload: Workload) -> MemoryBreakdown {
        let geometry = ShardGeometry(model: model, tensor: configuration.tensor,
                                     pipeline: configuration.pipeline, blockSize: workload.weightBlockSize)
        var worst = MemoryBreakdown()
        for stage in 0..<configuration.pipeline {
            for rank in 0..<configuration.tensor {
                let memory: MemoryBreakdown
                switch workload {
                case .inference(let w):
                    memory = inference(model: model, geometry: geometry, rank: rank, stage: stage,
                                       configuration: configuration, workload: w)
                case .training(let w):
                    memory = training(model: model, geometry: geometry, rank: rank, stage: stage,
                                      configuration: configuration, workload: w)
                }
                if memory.total > worst.total { worst = memory }
            }
        }
        return worst
    }

    static func inference(model: PlannerModel, geometry: ShardGeometry, rank: Int, stage: Int,
                          configuration: ParallelConfiguration, workload: InferenceWorkload) -> MemoryBreakdown {
        let c = model.configuration
        let sequences = Double(InferencePartition(workload: workload, configuration: configuration).sequencesPerReplica)
        let layers = Double(geometry.stageLayers[stage])
        let kvPerToken = 2 * layers * workload.kvCacheFormat.rowBytes(geometry.kvHeads[rank] * c.headDimension)
        let kv = kvPerToken * sequences * Double(workload.promptLength + workload.outputLength)
        let weights = geometry.weightBytes(rank: rank, stage: stage, model: model, format: workload.weightFormat)
        return MemoryBreakdown(weights: weights, kvCache: kv,
                               activations: inferenceActivations(model: model, geometry: geometry, rank: rank,
                                                                 stage: stage, workload: workload,
                                                                 sequences: sequences))
    }

    /// Working buffers of the largest forward pass (one sequence's prefill at a time, as
    /// vLLM's profiler measures): per token the residual, norm output, Q/K/V, attention
    /// output and MLP intermediates, plus one sequence's attention scores and, on the last
    /// stage, f32 logits for every sequence.
    static func inferenceActivations(model: PlannerModel, geometry: ShardGeometry, rank: Int, stage: Int,
                                     workload: InferenceWorkload, sequences: Double) -> Double {
        let c = model.configuration
        let tokens = Double(workload.promptLength)
        let q = Double(geometry.queryHeads[rank] * c.headDimension)
        let kv = Double(geometry.kvHeads[rank] * c.headDimension)
        let mlp = Double(model.mlp.matrixCount) * Double(geometry.mlpColumns[rank])  // gate, up, product
        let perToken = 2 * Double(c.hiddenSize) + 2 * q + 2 * kv + mlp
        let scores = Double(geometry.queryHeads[rank]) * tokens * tokens * 4
        let isLast = stage == geometry.stageLayers.count - 1
        let logits = isLast ? sequences * Double(geometry.vocabularyRows[rank]) * 4 : 0
        return tokens * perToken * workload.activationFormat.bytesPerElement + scores + logits
    }

    static func training(model: PlannerModel, geometry: ShardGeometry, rank: Int, stage: Int,
                         configuration: ParallelConfiguration, workload: TrainingWorkload) -> MemoryBreakdown {
        let parameters = Double(geometry.parameterElements(rank: rank, stage: stage, model: model))
        let masterBytes: Double = workload.mixedPrecision ? 4 : 0
        var optimizer = parameters * (workload.optimizer.stateBytesPerParameter + masterBytes)
        if workload.shardOptimizerStates { optimizer /= Double(configuration.data) }
        let partition = TrainingPartition(workload: workload, configuration: configuration)
        let inFlight = Double(min(partition.microBatches, configuration.pipeline - stage))
        let perMicroBatch = trainingActivationsPerMicroBatch(model: model, geometry: geometry, rank: rank,
                                                             stage: stage, workload: workload)
        return MemoryBreakdown(weights: parameters * workload.computeBytes, activations: inFlight * perMicroBatch,
                               gradients: parameters * workload.computeBytes, optimizerStates: optimizer)
    }

    /// Activations one micro-batch leaves on a stage for its backward pass (after
    /// Korthikanti et al., without dropout, without sequence parallelism): per token and
    /// layer the two norm inputs and outputs (replicated over TP), Q, K, V, attention
    /// output and the MLP intermediates (sharded), and the softmax probabilities; with
    /// recomputation only each layer's input. The last stage adds f32 logits.
    /// `ActivationAccounting.trident` counts what trident's layers keep instead.
    static func trainingActivationsPerMicroBatch(model: PlannerModel, geometry: ShardGeometry, rank: Int,
                                                 stage: Int, workload: TrainingWorkload) -> Double {
        if workload.activations == .trident {
            return tridentActivationsPerMicroBatch(model: model, geometry: geometry, rank: rank, stage: stage,
                                                   workload: workload)
        }
        let c = model.configuration
        let tokens = Double(workload.microBatchSize * workload.sequenceLength)
        let bytes = workload.computeBytes
        let layers = Double(geometry.stageLayers[stage])
        let perLayerPerToken: Double
        if workload.recomputeActivations {
            perLayerPerToken = Double(c.hiddenSize) * bytes
        } else {
            let q = Double(geometry.queryHeads[rank] * c.headDimension)
            let kv = Double(geometry.kvHeads[rank] * c.headDimension)
            let mlpIntermediates: Double = model.mlp == .swiGLU ? 4 : 2
            let elements = 4 * Double(c.hiddenSize) + 2 * q + 2 * kv
                + mlpIntermediates * Double(geometry.mlpColumns[rank])
            let softmax = Double(geometry.queryHeads[rank] * workload.sequenceLength)
            perLayerPerToken = (elements + softmax) * bytes
        }
        let isLast = stage == geometry.stageLayers.count - 1
        let logits = isLast ? tokens * Double(geometry.vocabularyRows[rank]) * 4 : 0
        return layers * tokens * perLayerPerToken + logits
    }
}

extension Workload {
    /// Quantization block size of the weights (MLP columns are cut at its multiples).
    var weightBlockSize: Int {
        switch self {
        case .inference(let w): return w.weightFormat.blockSize
        case .training: return 1
        }
    }
}
