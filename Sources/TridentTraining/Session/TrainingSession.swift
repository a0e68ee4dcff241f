import TridentCollectives
import TridentKernels
import TridentModel

/// Runs optimizer steps of one rank: its model shard, its data-parallel replica's sequences,
/// AdamW over its parameters.
///
/// One step `s`:
/// 1. zero the gradients;
/// 2. for each of the `A` micro-batches, the replica's `B` sequences of step `s` (the data
///    contract of `SequenceBatching`) go through `model.accumulateGradients` with the step's
///    global target count `G · L` as denominator, so the summed gradients are those of the
///    step's mean loss;
/// 3. with data parallelism, the last micro-batch's backward starts the bucket all-reduces
///    (sum over replicas) as the model reports gradients final; they are waited for here;
///    under ZeRO-1 (`zero: .optimizerStates`) the buckets are reduce-scattered instead, each
///    replica holds the summed gradient and the AdamW moments of its slice only (`ZeroPartition`);
/// 4. the loss is Σ lossSum over micro-batches and replicas / `G · L`;
/// 5. the global gradient norm over the tensor (and pipeline) group, each element once, then
///    clipping to `clipNorm` (0: off), then AdamW at the schedule's rate for step `s` (under
///    ZeRO-1 the norm is summed over the replicas' slices too, each replica updates its slice,
///    and the parameters are all-gathered over the data group).
///
/// Every rank of the run must construct its session with the same configuration and token
/// stream and call `step()` the same number of times. If `groups.tensor` is a
/// `TimedCommunicator` (hand the model the same one), its time is reported as tensor communication.
public final class TrainingSession {
    public let model: any TrainableModel
    public let groups: ProcessGroups
    public let configuration: TrainingConfiguration
    public let batching: SequenceBatching
    public let optimizer: AdamWOptimizer
    /// The token stream `[T]` every rank reads its sequences from.
    public let tokens: [Int32]
    private let buckets: ParameterBuckets?
    /// Under ZeRO-1 with more than one replica: the reduce-scatter buckets (then `buckets` is nil).
    let zero: ZeroBuckets?
    /// Whether the optimizer state is sharded over the data group (`--zero 1` with `--dp` > 1).
    public var shardsOptimizerState: Bool { zero != nil }
    /// Per parameter: the local elements `optimizer.states[i]` covers and this rank updates
    /// (all of them unless `shardsOptimizerState`).
    public let optimizerRanges: [Range<Int>]
    private let pool: ThreadPool
    /// With more than one pipeline stage: the executor of this stage's schedule.
    public let pipeline: PipelineTrainer?
    private let tiedEmbeddings: TiedEmbeddingGroup?
    /// Called before each micro-batch with the step (from 1) and the index of the micro-batch's
    /// first sequence within the step's global batch (all micro-batches and replicas), so that a
    /// model can draw dropout masks that do not depend on the layout.
    public var microBatchWillStart: ((_ step: Int, _ firstSequence: Int) -> Void)?
    /// Records each step's timeline when set: pipeline actions, waits and all-reduces, the
    /// optimizer on the main row (gaps filled as idle), gradient buckets on the async row. Each
    /// rank records only its own spans; gathering them is the caller's (`TraceGathering`).
    public var trace: TraceRecorder? {
        didSet { pipeline?.trace = trace; buckets?.trace = trace; zero?.trace = trace }
    }
    /// The model's overlap of tensor-group all-reduces (`--tp-comm-overlap`), whose hidden
    /// seconds each step reports; nil when the model does not overlap them.
    public var tensorOverlap: TensorParallelOverlap?
    /// Optimizer steps done so far (the next step is `completedSteps + 1`).
    public internal(set) var completedSteps = 0
    /// The activations this rank kept for backward passes at once during the last step.
    public private(set) var lastSavedActivations = SavedActivationPeak()

    /// - Parameter pipelineSchedule: the schedule of the step's micro-batches when
    ///   `groups.pipeline` has more than one stage (then `model` must be that rank's
    ///   `LlamaTrainingModel` stage, or its `ChunkedStageModel` under interleaved 1F1B).
    /// - Parameter zero: `.optimizerStates` shards the AdamW moments over `groups.data` (a data
    ///   group of one takes the plain path).
    /// - Throws: `TrainingError` for a configuration out of range or data shorter than one sequence.
    public init(model: any TrainableModel, groups: ProcessGroups, configuration: TrainingConfiguration,
                tokens: [Int32], pool: ThreadPool, pipelineSchedule: PipelineTrainingSchedule = .oneFOneB,
                zero: ZeroStage = .off) throws {
        try configuration.validate()
        self.model = model
        self.groups = groups
        self.configuration = configuration
        self.tokens = tokens
        self.pool = pool
        batching = try SequenceBatching(tokenCount: tokens.count, sequenceLength: configuration.sequenceLength,
                                        microBatch: configuration.microBatch, accumulation: configuration.accumulation,
                                        dataParallel: groups.data.size,
                                        shuffleSeed: configuration.shuffle ? configuration.seed : nil)
        optimizer = try AdamWOptimizer(configuration: configuration.optimizer)
        let parts = try Self.pipelineParts(model: model, groups: groups, schedule: pipelineSchedule)
        (pipeline, tiedEmbeddings) = parts
        let parameters = model.parameters
        if zero == .optimizerStates && groups.data.size > 1 {
            let tied = parts.1 == nil ? [] : (model as? any PipelineStageChunks)?.tiedEmbeddingParameterIndices ?? []
            let partition = ZeroPartition(sizes: parameters.map(\.values.count), bucketBytes: configuration.bucketBytes,
                                          replicas: groups.data.size, replica: groups.data.rank, isolated: Set(tied))
            self.zero = ZeroBuckets(values: parameters.map(\.values), gradients: parameters.map(\.gradient),
                                    partition: partition, group: groups.data)
            optimizerRanges = partition.ownedRanges
            buckets = nil
        } else {
            self.zero = nil
            optimizerRanges = parameters.map { 0..<$0.values.count }
            buckets = groups.data.size > 1
                ? ParameterBuckets(gradients: parameters.map(\.gradient), bucketBytes: configuration.bucketBytes, group: groups.data)
                : nil
        }
        for (parameter, range) in zip(parameters, optimizerRanges) { optimizer.register(count: range.count, decay: parameter.decay) }
    }

    /// The stage's trainer and, with tied embeddings, the embedding group (split from the
    /// pipeline group: every pipeline rank takes part). Nil without pipeline parallelism.
    private static func pipelineParts(model: any TrainableModel, groups: ProcessGroups,
                                      schedule: PipelineTrainingSchedule) throws -> (PipelineTrainer?, TiedEmbeddingGroup?) {
        guard groups.pipeline.size > 1 else { return (nil, nil) }
        guard let stage = model as? any PipelineStageChunks else {
            throw TrainingError.invalidValue(name: "pipeline stage model", expected: "a LlamaTrainingModel stage or its chunks",
                                             found: "\(type(of: model))")
        }
        let tied = stage.chunks[0].configuration.tiedEmbeddings
            ? try TiedEmbeddingGroup.make(pipelineGroup: groups.pipeline) : nil
        return (PipelineTrainer(chunks: stage.chunks, pipelineGroup: groups.pipeline, schedule: schedule), tied)
    }

    /// Target tokens of one optimizer step over every replica (`G · L`).
    public var targetsPerStep: Int { batching.globalBatch * configuration.sequenceLength }

    /// Runs optimizer step `completedSteps + 1`. Every rank must call this.
    /// - Throws: `TrainingError` from the model (a target outside the vocabulary), or a
    ///   `CollectiveError` from any group.
    public func step() throws -> StepStatistics {
        let clock = ContinuousClock()
        let began = clock.now
        let traceBegan = trace?.now() ?? 0
        let timer = groups.tensor as? TimedCommunicator
        let tensorBefore = timer?.seconds ?? 0, hiddenBefore = tensorOverlap?.hiddenSeconds ?? 0
        let step = completedSteps + 1
        let lossSum = try accumulate(step: step)
        let exposed = try span("gradient buckets wait", .allReduce) { try buckets?.finish() ?? zero?.finish() ?? .zero }
        let parameters = model.parameters
        let stage: (any PipelineStageChunks)? = pipeline == nil ? nil : (model as? any PipelineStageChunks)
        if let tiedEmbeddings, let stage {
            try span("tied embedding sum", .allReduce) {
                try tiedEmbeddings.sum(stage.tiedEmbeddingParameterIndices.map(optimizerGradient).filter { $0.count > 0 })
            }
        }
        let loss = try span("loss sum", .allReduce) {
            try reduceOverReplicas(reduce(lossSum, over: groups.pipeline)) / Double(targetsPerStep)
        }
        let tagged = parameters.indices.map { TaggedGradient(optimizerGradient($0), sharing: parameters[$0].sharing) }
        // A copy another stage holds too (the last stage's tied embedding) is counted there only.
        let copies = stage?.pipelineCopyIndices ?? []
        let counted = tagged.indices.filter { !copies.contains($0) }.map { tagged[$0] }
        let norm = try span("gradient norm", .allReduce) {
            // Under ZeRO-1 each replica holds a slice of the summed gradient: add the replicas' sums too.
            try GradientClipping.globalNorm(counted, tensorGroup: groups.tensor,
                                            otherGroups: zero == nil ? [groups.pipeline] : [groups.data, groups.pipeline])
        }
        let rate = configuration.schedule.rate(atStep: step)
        span("clip + AdamW", .optimizer) {
            GradientClipping.clip(tagged, norm: norm, maxNorm: configuration.clipNorm)
            optimizer.step(parameters: parameters.indices.map(optimizerValues),
                           gradients: parameters.indices.map { UnsafeBufferPointer(optimizerGradient($0)) },
                           learningRate: Float(rate), pool: pool)
        }
        let gathered = try span("parameter all-gather", .allReduce) { try zero?.gatherParameters() ?? .zero }
        completedSteps = step
        let seconds = (clock.now - began).seconds
        trace?.fillIdle(from: traceBegan, to: traceBegan + Int64(seconds * 1e9))
        return StepStatistics(step: step, loss: loss, gradientNorm: norm, learningRate: rate, tokens: targetsPerStep,
                              seconds: seconds,
                              tensorCommunicationSeconds: (timer?.seconds ?? 0) - tensorBefore,
                              dataCommunicationSeconds: ((buckets?.lastCommunicationTime ?? zero?.lastCommunicationTime ?? .zero)
                                                         + gathered).seconds,
                              exposedDataCommunicationSeconds: (exposed + gathered).seconds,
                              hiddenTensorCommunicationSeconds: (tensorOverlap?.hiddenSeconds ?? 0) - hiddenBefore)
    }

    /// The gradient the optimizer steps parameter `index` with: all of it, or under ZeRO-1 the
    /// reduced slice this replica owns.
    private func optimizerGradient(_ index: Int) -> UnsafeMutableBufferPointer<Float> {
        zero?.gradientSlice(of: index) ?? model.parameters[index].gradient
    }

    /// The values the optimizer updates for parameter `index` (`optimizerRanges[index]` of them).
    private func optimizerValues(_ index: Int) -> UnsafeMutableBufferPointer<Float> {
        zero?.ownedValues(of: index) ?? model.parameters[index].values
    }

    /// What reports a parameter's gradient final to the data-parallel buckets (nil without data parallelism).
    private var gradientReadyHandler: ((Int) -> Void)? {
        if let buckets { return { buckets.markReady($0) } }
        if let zero { return { zero.markReady($0) } }
        return nil
    }

    /// Runs `body` as a main-row span when tracing.
    private func span<T>(_ name: String, _ kind: TraceKind, microBatch: Int? = nil, _ body: () throws -> T) rethrows -> T {
        guard let trace else { return try body() }
        return try trace.record(name, kind, microBatch: microBatch, body)
    }

    /// Zeroes the gradients and runs this replica's micro-batches of `step`; the last one
    /// reports final gradients to the buckets. - Returns: this replica's Σ lossSum.
    private func accumulate(step: Int) throws -> Double {
        span("zero gradients", .optimizer) { model.zeroGradients() }
        defer { model.gradientReady = nil }
        if let pipeline {
            let lossSum = try accumulate(step: step, pipeline: pipeline)
            lastSavedActivations = SavedActivationPeak(microBatches: pipeline.lastStep.peakSavedMicroBatches,
                                                       bytes: pipeline.lastStep.peakSavedBytes)
            return lossSum
        }
        var lossSum: Double = 0
        var peak = SavedActivationPeak()
        let replica = groups.data.rank
        for micro in 0..<configuration.accumulation {
            if let ready = gradientReadyHandler, micro == configuration.accumulation - 1 {
                model.gradientReady = ready
            }
            microBatchWillStart?(step, (replica * configuration.accumulation + micro) * configuration.microBatch)
            let indices = batching.sequenceIndices(step: step, replica: replica, microBatch: micro)
            let sequences = indices.map { Array(tokens[batching.tokenRange(ofSequence: $0)]) }
            let result = try span("forward + backward", .compute, microBatch: micro) {
                try model.accumulateGradients(sequences: sequences, denominator: targetsPerStep)
            }
            lossSum += result.lossSum
            peak = SavedActivationPeak(microBatches: 1, bytes: max(peak.bytes, model.lastSavedActivationBytes))
        }
        lastSavedActivations = peak
        return lossSum
    }

    /// The micro-batches of `step` through this stage's pipeline schedule. - Returns: this
    /// replica's Σ lossSum on the last stage, 0 elsewhere.
    private func accumulate(step: Int, pipeline: PipelineTrainer) throws -> Double {
        let replica = groups.data.rank, accumulation = configuration.accumulation, size = configuration.microBatch
        let microBatches = (0..<accumulation).map { micro in
            batching.sequenceIndices(step: step, replica: replica, microBatch: micro)
                .map { Array(tokens[batching.tokenRange(ofSequence: $0)]) }
        }
        return try pipeline.run(
            microBatches: microBatches, denominator: targetsPerStep,
            willForward: { micro in self.microBatchWillStart?(step, (replica * accumulation + micro) * size) },
            gradientReady: gradientReadyHandler)
    }

    /// Σ over the data group of `value`, carried as a (high, low) float pair (about 48 bits).
    private func reduceOverReplicas(_ value: Double) throws -> Double {
        try reduce(value, over: groups.data)
    }

    /// Σ over `group` of `value`, carried as a (high, low) float pair (about 48 bits).
    private func reduce(_ value: Double, over group: any Communicator) throws -> Double {
        guard group.size > 1 else { return value }
        let high = Float(value)
        var pair = [high, Float(value - Double(high))]
        try group.allReduce(&pair, op: .sum)
        return Double(pair[0]) + Double(pair[1])
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) * 1e-18
    }
}
