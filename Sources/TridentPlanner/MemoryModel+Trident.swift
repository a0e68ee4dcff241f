/// Trident's training activations (`ActivationAccounting.trident`), and the peak a stage holds.
extension MemoryModel {
    /// Bytes one micro-batch keeps on tensor rank `rank` of `stage` for its backward, as
    /// trident's layers keep them (f32): see `ActivationAccounting.trident`.
    static func tridentActivationsPerMicroBatch(model: PlannerModel, geometry: ShardGeometry, rank: Int,
                                                stage: Int, workload: TrainingWorkload) -> Double {
        let c = model.configuration
        let tokens = Double(workload.microBatchSize * workload.sequenceLength)
        let hidden = Double(c.hiddenSize)
        let perLayerPerToken: Double
        if workload.recomputeActivations {
            perLayerPerToken = hidden
        } else {
            let q = Double(geometry.queryHeads[rank] * c.headDimension)
            let kv = Double(geometry.kvHeads[rank] * c.headDimension)
            let mlp = Double(model.mlp == .swiGLU ? 3 : 2) * Double(geometry.mlpColumns[rank])
            perLayerPerToken = 4 * hidden + 2 * q + 2 * kv + Double(geometry.queryHeads[rank]) + mlp
        }
        let isLast = stage == geometry.stageLayers.count - 1
        let head = isLast ? 2 * hidden + Double(geometry.vocabularyRows[rank]) : 0
        return tokens * (Double(geometry.stageLayers[stage]) * perLayerPerToken + head) * 4
    }

    /// The most activation bytes any (stage, tensor rank) holds at once under 1F1B: stage `s`
    /// keeps `min(M, P - s)` micro-batches (one without pipeline parallelism).
    public static func peakTrainingActivations(model: PlannerModel, configuration: ParallelConfiguration,
                                               workload: TrainingWorkload) -> Double {
        let geometry = ShardGeometry(model: model, tensor: configuration.tensor, pipeline: configuration.pipeline)
        let microBatches = TrainingPartition(workload: workload, configuration: configuration).microBatches
        var peak = 0.0
        for stage in 0..<configuration.pipeline {
            let inFlight = Double(min(microBatches, configuration.pipeline - stage))
            for rank in 0..<configuration.tensor {
                peak = max(peak, inFlight * trainingActivationsPerMicroBatch(model: model, geometry: geometry, rank: rank,
                                                                             stage: stage, workload: workload))
            }
        }
        return peak
    }
}
