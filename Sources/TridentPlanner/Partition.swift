/// How an inference batch is spread over replicas and pipeline micro-batches.
public struct InferencePartition: Sendable, Equatable {
    /// Sequences on the busiest replica: `ceil(batch / dp)`.
    public let sequencesPerReplica: Int
    /// Replicas that get at least one sequence.
    public let busyReplicas: Int
    /// Micro-batches a replica's sequences are cut into for its pipeline: `min(sequences, pp)`.
    public let microBatches: Int
    /// Sequences per micro-batch (largest).
    public let sequencesPerMicroBatch: Int

    public init(workload: InferenceWorkload, configuration: ParallelConfiguration) {
        let dp = configuration.data
        sequencesPerReplica = (workload.batchSize + dp - 1) / dp
        busyReplicas = min(dp, workload.batchSize)
        microBatches = min(sequencesPerReplica, configuration.pipeline)
        sequencesPerMicroBatch = (sequencesPerReplica + microBatches - 1) / microBatches
    }
}

/// How a training step's global batch is spread over replicas and micro-batches.
public struct TrainingPartition: Sendable, Equatable {
    /// Sequences per replica per step: `ceil(globalBatch / dp)`.
    public let sequencesPerReplica: Int
    /// Micro-batches per replica per step: `ceil(sequencesPerReplica / microBatch)`.
    public let microBatches: Int

    public init(workload: TrainingWorkload, configuration: ParallelConfiguration) {
        let dp = configuration.data
        sequencesPerReplica = (workload.globalBatchSize + dp - 1) / dp
        microBatches = (sequencesPerReplica + workload.microBatchSize - 1) / workload.microBatchSize
    }
}
