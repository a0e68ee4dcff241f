import TridentCollectives
import TridentFormats
import TridentKernels
import TridentModel

/// A Llama-family model (and the architecture variants the layers support: LayerNorm with
/// bias, GELU/ReLU, plain MLP, biases, learned positions) as one tensor-parallel rank trains
/// it: float32 master weights, gradient buffers, a training forward and backward.
///
/// A model holds one pipeline stage (`stage`): a range of blocks, the embedding on the first
/// stage, the final norm, LM head and loss on the last; only that stage's parameters exist on
/// the rank, under their global GGUF names. Without pipeline parallelism the stage is the whole model.
public final class LlamaTrainingModel: TrainableModel {
    /// The layers of this rank.
    struct Layers {
        var embedding: VocabParallelEmbedding?      // first stage only
        var positions: PositionEmbedding?
        var blocks: [TransformerBlock]              // stage.blocks, in order
        var head: LMHead?                           // last stage only
    }

    public let configuration: ModelConfiguration
    public let plan: ShardingPlan
    /// The blocks this rank holds, and whether it holds the embedding and the head.
    public let stage: TrainingStage
    /// The tensor-parallel group; every rank of it must call `accumulateGradients` alike.
    public let group: any Communicator
    public let pool: ThreadPool
    public private(set) var parameters: [TrainableParameter] = []
    public var gradientReady: ((Int) -> Void)?
    /// Dropout probability of attention probabilities and of both residual branches (0: none),
    /// and the seed of its masks.
    public var dropoutProbability: Float = 0
    public var dropoutSeed: UInt64 = 0
    /// Where the next micro-batch sits, for dropout masks that do not depend on the layout: the
    /// optimizer step (from 1) and the index, within the step's global batch (all micro-batches
    /// and replicas), of the micro-batch's first sequence. A session sets it before each call.
    public var dropoutPosition: (step: Int, firstSequence: Int) = (1, 0)
    /// Activation recomputation (`--recompute`): a forward keeps only each block's input
    /// `[B·L, hidden]` for the backward, which runs the block's forward again from it just
    /// before the block's own backward: the same arithmetic, so the same numbers, for one more
    /// forward of the blocks (and their tensor-group collectives). The head keeps its context.
    public var recomputeActivations = false
    /// Overlap of the tensor group's all-reduces with computation (`--tp-comm-overlap`), or nil.
    public var tensorOverlap: TensorParallelOverlap?
    /// Bytes of activations the last `accumulateGradients` saved for its backward (each
    /// buffer once); a pipeline stage reports its own through `StageMicroBatch.savedBytes`.
    public internal(set) var lastSavedActivationBytes = 0
    let layers: Layers
    /// Indices into `parameters` of each tensor's views, by tensor identity.
    private var indices: [ObjectIdentifier: [Int]] = [:]

    /// Loads this rank's slices of a GGUF Llama model as float32 master weights (quantized
    /// tensors dequantized). Parameter names are the GGUF tensor names.
    /// - Parameters:
    ///   - group: the tensor-parallel group (`group.size` = TP, this rank = `group.rank`).
    /// - Throws: `GGUFError` (unreadable file), `ModelLoadingError` (not Llama, missing or
    ///   misshapen tensors), `ShardingError` (TP beyond the head count).
    public convenience init(ggufPath path: String, group: any Communicator, pool: ThreadPool) throws {
        let file = try GGUFFile(path: path)
        try self.init(configuration: try ModelConfiguration(gguf: file), source: .gguf(file), group: group, pool: pool)
    }

    /// A model of `configuration` with Megatron's random initialisation (normal, std 0.02,
    /// output projections 0.02 / sqrt(2 x layers), norms one, biases zero), the same numbers
    /// in every layout for the same `seed`.
    public convenience init(configuration: ModelConfiguration, seed: UInt64, group: any Communicator,
                            pool: ThreadPool) throws {
        try self.init(configuration: configuration, source: .random(seed: seed), group: group, pool: pool)
    }

    /// - Throws: `ShardingError`, or the source's loading errors.
    /// - Parameter stage: the pipeline stage to hold (nil: the whole model).
    public init(configuration c: ModelConfiguration, source: TensorSource, group: any Communicator,
                pool: ThreadPool, stage: TrainingStage? = nil) throws {
        let plan = try ShardingPlan(configuration: c, tensorParallelSize: group.size, rank: group.rank)
        let stage = stage ?? .whole(layers: c.layerCount)
        guard stage.blocks.upperBound <= c.layerCount else {
            throw TrainingError.invalidValue(name: "pipeline stage blocks", expected: "within 0..<\(c.layerCount)",
                                             found: "\(stage.blocks)")
        }
        self.configuration = c
        self.plan = plan
        self.stage = stage
        self.group = group
        self.pool = pool
        let (shared, holders) = try Self.sharedKVHeads(c, plan: plan)
        var made: [(ParameterSpec, TrainingTensor)] = []
        layers = try Self.buildLayers(c, plan: plan, sharedKVHeads: shared, stage: stage) { spec in
            let tensor = TrainingTensor(shape: spec.localShape, values: try source.values(spec, layers: c.layerCount, pool: pool))
            made.append((spec, tensor))
            return tensor
        }
        for (spec, tensor) in made { register(spec, tensor, holders: holders) }
    }

    /// Adds the `TrainableParameter` views of one tensor: one, or for a K/V projection whose
    /// heads are held by different sets of ranks, one per run of heads alike.
    private func register(_ spec: ParameterSpec, _ tensor: TrainingTensor, holders: [Int: [Int]]) {
        let rank = group.rank
        func add(rows: Range<Int>, localRows: Range<Int>, sharing: GradientSharing) {
            let width = spec.columns.count
            let start = localRows.lowerBound * width, count = localRows.count * width
            indices[ObjectIdentifier(tensor), default: []].append(parameters.count)
            parameters.append(TrainableParameter(
                name: spec.name, globalShape: spec.globalShape,
                shardRows: spec.isSharded && rows.count != spec.globalRows ? rows : nil,
                shardColumns: spec.isSharded && spec.columns.count != spec.globalColumns ? spec.columns : nil,
                values: UnsafeMutableBufferPointer(rebasing: tensor.values[start ..< start + count]),
                gradient: UnsafeMutableBufferPointer(rebasing: tensor.gradient[start ..< start + count]),
                decay: spec.decay, sharing: sharing))
        }
        guard let perHead = spec.rowsPerKVHead, group.size > 1 else {
            let replicated = !spec.isSharded && group.size > 1
            add(rows: spec.rows, localRows: 0 ..< spec.rows.count, sharing: replicated ? .replicated : .sharded)
            return
        }
        // Runs of KV heads with the same holders: sharded (one holder) or duplicated.
        let firstHead = spec.rows.lowerBound / perHead
        var runStart = 0
        let heads = spec.rows.count / perHead
        func sharing(_ local: Int) -> GradientSharing {
            let owners = holders[firstHead + local] ?? [rank]
            return owners.count == 1 ? .sharded : .duplicated(owner: owners.min() == rank)
        }
        for local in 1 ... heads where local == heads || sharing(local) != sharing(runStart) {
            add(rows: spec.rows.lowerBound + runStart * perHead ..< spec.rows.lowerBound + local * perHead,
                localRows: runStart * perHead ..< local * perHead, sharing: sharing(runStart))
            runStart = local
        }
    }

    /// Calls `gradientReady` for every parameter view of `tensors`.
    func notifyReady(_ tensors: [TrainingTensor]) {
        guard let gradientReady else { return }
        for tensor in tensors { for index in indices[ObjectIdentifier(tensor)] ?? [] { gradientReady(index) } }
    }
}
