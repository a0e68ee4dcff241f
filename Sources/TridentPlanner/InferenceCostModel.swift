/// Roofline and alpha-beta cost of serving: a prefill of every prompt, then decode steps.
///
/// Per stage and micro-batch: `max(FLOPs / rate, bytes / memory bandwidth)` for the busiest
/// tensor rank (weights read once per pass, KV cache read and written), plus 2 TP
/// all-reduces per layer, the vocabulary collectives and the send to the next stage. The
/// prefill flushes the pipeline (`(M+P-1)` slots); decoding runs in steady state, each
/// micro-batch re-entering as soon as it leaves the last stage.
public enum InferenceCostModel {
    /// The shape of one pass of one micro-batch.
    struct Pass {
        var sequences: Int          // sequences in the micro-batch
        var newTokens: Int          // tokens per sequence computed in this pass
        var context: Double         // average positions each new token attends to
        var cachedTokens: Double    // KV entries per sequence read from the cache
        var tokens: Int { sequences * newTokens }
    }

    /// Predicted speed and the communication per decode step of one replica.
    public static func estimate(model: PlannerModel, cluster: Cluster, configuration: ParallelConfiguration,
                                workload: InferenceWorkload) -> (CostEstimate, CommunicationAnalysis) {
        let geometry = ShardGeometry(model: model, tensor: configuration.tensor, pipeline: configuration.pipeline,
                                     blockSize: workload.weightFormat.blockSize)
        let links = ConfigurationLinks(cluster: cluster, configuration: configuration)
        let partition = InferencePartition(workload: workload, configuration: configuration)
        let calculator = StageCalculator(model: model, cluster: cluster, geometry: geometry, links: links,
                                         workload: workload)
        let prompt = Double(workload.promptLength)
        let (prefill, decode) = passes(workload: workload, partition: partition)
        let prefillTiming = PipelineTiming(stages: geometry.stageLayers.indices.map { calculator.time(stage: $0, pass: prefill) },
                                           microBatches: partition.microBatches)
        let decodeTiming = PipelineTiming(stages: geometry.stageLayers.indices.map { calculator.time(stage: $0, pass: decode) },
                                          microBatches: partition.microBatches)
        let steps = Double(workload.outputLength)
        let prefillSeconds = prefillTiming.flushedTime
        let roundSeconds = decodeTiming.steadyRoundTime
        let total = prefillSeconds + steps * roundSeconds
        let batch = Double(workload.batchSize)
        let communication = prefillTiming.communicationTime + steps * decodeTiming.communicationTime
        let bubble = (prefillSeconds - prefillTiming.busyTime) + steps * (roundSeconds - decodeTiming.busyTime)
        let estimate = CostEstimate(
            tokensPerSecond: batch * steps / total,
            prefillTokensPerSecond: batch * prompt / prefillSeconds,
            decodeTokensPerSecond: batch / roundSeconds,
            seconds: total,
            communicationShare: communication / total,
            bubbleShare: bubble / total)
        let analysis = CommunicationAnalysis(
            unit: "decode step", tokensPerUnit: Double(partition.sequencesPerReplica),
            items: calculator.items(pass: decode, microBatches: partition.microBatches))
        return (estimate, analysis)
    }

    /// The prefill pass (every prompt token, attending on average to half the prompt) and
    /// the decode pass (one token per sequence at the mean context `prompt + output / 2`)
    /// of one micro-batch.
    static func passes(workload: InferenceWorkload, partition: InferencePartition) -> (prefill: Pass, decode: Pass) {
        let prompt = Double(workload.promptLength)
        let prefill = Pass(sequences: partition.sequencesPerMicroBatch, newTokens: workload.promptLength,
                           context: (prompt + 1) / 2, cachedTokens: 0)
        let meanContext = prompt + Double(workload.outputLength) / 2
        let decode = Pass(sequences: partition.sequencesPerMicroBatch, newTokens: 1,
                          context: meanContext, cachedTokens: meanContext)
        return (prefill, decode)
    }
}
