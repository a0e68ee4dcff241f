/// Cost of one training step: 1F1B pipeline over micro-batches (flushed every step), TP
/// all-reduces in forward and backward, pipeline sends of activations and gradients, the
/// data-parallel gradient all-reduce overlapped with the last backward, and the optimizer
/// update (memory-bound).
public enum TrainingCostModel {
    /// Predicted speed and the communication per training step of one replica.
    public static func estimate(model: PlannerModel, cluster: Cluster, configuration: ParallelConfiguration,
                                workload: TrainingWorkload) -> (CostEstimate, CommunicationAnalysis) {
        let geometry = ShardGeometry(model: model, tensor: configuration.tensor, pipeline: configuration.pipeline)
        let links = ConfigurationLinks(cluster: cluster, configuration: configuration)
        let partition = TrainingPartition(workload: workload, configuration: configuration)
        let calculator = TrainingStageCalculator(model: model, cluster: cluster, geometry: geometry, links: links,
                                                 workload: workload)
        let timing = PipelineTiming(stages: geometry.stageLayers.indices.map { calculator.time(stage: $0) },
                                    microBatches: partition.microBatches)
        let gradient = calculator.gradientAllReduce(dataRanks: configuration.data)
        // Buckets are reduced while the last micro-batch's backward runs (2/3 of its compute).
        let overlapWindow = timing.slowest.compute * 2 / 3
        let exposed = max(0, gradient.seconds - overlapWindow)
        let optimizer = calculator.optimizerSeconds(dataRanks: configuration.data)
        let step = timing.flushedTime + exposed + optimizer
        let tokens = Double(workload.globalBatchSize * workload.sequenceLength)
        let estimate = CostEstimate(
            tokensPerSecond: tokens / step, prefillTokensPerSecond: 0, decodeTokensPerSecond: 0, seconds: step,
            communicationShare: (timing.communicationTime + exposed) / step,
            bubbleShare: (timing.flushedTime - timing.busyTime) / step)
        var items = calculator.items(microBatches: partition.microBatches)
        if configuration.data > 1 { items.append(gradient) }
        let analysis = CommunicationAnalysis(
            unit: "training step", tokensPerUnit: Double(partition.sequencesPerReplica * workload.sequenceLength),
            items: items)
        return (estimate, analysis)
    }
}

/// Prices one micro-batch's forward and backward on one stage.
struct TrainingStageCalculator {
    let model: PlannerModel
    let cluster: Cluster
    let geometry: ShardGeometry
    let links: ConfigurationLinks
    let workload: TrainingWorkload

    var tensorRanks: Int { geometry.queryHeads.count }
    var lastStage: Int { geometry.stageLayers.count - 1 }
    var tokens: Double { Double(workload.microBatchSize * workload.sequenceLength) }
    /// Forward passes per micro-batch: 1, plus 1 when activations are recomputed.
    var forwardPasses: Double { workload.recomputeActivations ? 2 : 1 }

    func time(stage: Int) -> StageTime {
        let compute = (0..<tensorRanks).map { roofline(rank: $0, stage: stage) }.max() ?? 0
        let communication = messages(stage: stage).reduce(0) { $0 + $1.occurrences * $1.seconds }
        return StageTime(compute: compute, communication: communication)
    }

    /// Forward FLOPs F (causal attention: each token sees (s+1)/2 positions on average);
    /// backward is 2F; weights are read once per pass.
    func roofline(rank: Int, stage: Int) -> Double {
        let c = model.configuration
        let layers = Double(geometry.stageLayers[stage])
        let elements = Double(geometry.layerMatrices(rank: rank, model: model).reduce(0) { $0 + $1.elements })
        let context = Double(workload.sequenceLength + 1) / 2
        let attention = 4 * Double(geometry.queryHeads[rank] * c.headDimension) * context
        var forward = layers * tokens * (2 * elements + attention)
        if stage == lastStage { forward += 2 * tokens * Double(geometry.vocabularyRows[rank] * c.hiddenSize) }
        let flops = forward * (forwardPasses + 2)
        let parameters = Double(geometry.parameterElements(rank: rank, stage: stage, model: model))
        let bytes = parameters * workload.computeBytes * (forwardPasses + 2)
        return cluster.passTime(flops: flops, bytes: bytes)
    }

    /// Messages of one micro-batch on `stage`: per layer 2 TP all-reduces per forward pass
    /// and 2 in backward, plus 2 for the vocabulary-parallel embedding (first stage) and
    /// loss (last stage, priced as full-size although its sums are smaller); a send of
    /// activations forward and of their gradients backward at each stage boundary.
    func messages(stage: Int) -> [CommunicationItem] {
        let c = model.configuration
        let hiddenBytes = tokens * Double(c.hiddenSize) * workload.computeBytes
        var items: [CommunicationItem] = []
        if tensorRanks > 1 {
            let (algorithm, seconds) = CollectiveCost.allReduce(bytes: hiddenBytes, ranks: tensorRanks, link: links.tensor)
            let sent = CollectiveCost.allReduceBytesSentPerRank(algorithm, bytes: hiddenBytes, ranks: tensorRanks)
            let perLayer = 2 * (forwardPasses + 1)
            let vocabulary = (stage == 0 ? 2.0 : 0) + (stage == lastStage ? 2.0 : 0)
            items.append(CommunicationItem(kind: .tensorAllReduce,
                                           occurrences: perLayer * Double(geometry.stageLayers[stage]) + vocabulary,
                                           messageBytes: hiddenBytes, bytesSentPerRank: sent, seconds: seconds,
                                           algorithm: algorithm, link: links.tensorKind))
        }
        if stage < lastStage {
            let link = links.pipeline[stage]
            items.append(CommunicationItem(kind: .pipelineSendRecv, occurrences: 2, messageBytes: hiddenBytes,
                                           bytesSentPerRank: hiddenBytes, seconds: link.sendTime(bytes: hiddenBytes),
                                           algorithm: .none, link: links.pipelineKinds[stage]))
        }
        return items
    }

    /// Per-step items of one replica, summed over stages and micro-batches.
    func items(microBatches: Int) -> [CommunicationItem] {
        var result: [CommunicationKind: CommunicationItem] = [:]
        var order: [CommunicationKind] = []
        let m = Double(microBatches)
        for stage in geometry.stageLayers.indices {
            for item in messages(stage: stage) {
                var scaled = item
                scaled.occurrences *= m
                scaled.bytesSentPerRank *= item.occurrences * m
                scaled.seconds *= item.occurrences * m
                if var existing = result[item.kind] {
                    existing.occurrences += scaled.occurrences
                    existing.bytesSentPerRank += scaled.bytesSentPerRank
                    existing.seconds += scaled.seconds
                    result[item.kind] = existing
                } else {
                    result[item.kind] = scaled
                    order.append(item.kind)
                }
            }
        }
        return order.compactMap { result[$0] }
    }

    /// The gradient all-reduce of the busiest (stage, rank) over `dataRanks` replicas,
    /// in the compute dtype (ZeRO-1's reduce-scatter + all-gather moves the same bytes).
    func gradientAllReduce(dataRanks: Int) -> CommunicationItem {
        let parameters = geometry.stageLayers.indices.flatMap { stage in
            (0..<tensorRanks).map { geometry.parameterElements(rank: $0, stage: stage, model: model) }
        }.max() ?? 0
        let bytes = Double(parameters) * workload.computeBytes
        let (algorithm, seconds) = CollectiveCost.allReduce(bytes: bytes, ranks: dataRanks, link: links.data)
        return CommunicationItem(kind: .dataGradientAllReduce, occurrences: 1, messageBytes: bytes,
                                 bytesSentPerRank: CollectiveCost.allReduceBytesSentPerRank(algorithm, bytes: bytes,
                                                                                            ranks: dataRanks),
                                 seconds: seconds, algorithm: algorithm, link: links.dataKind)
    }

    /// Memory-bound optimizer update: read weights, gradients and states, write weights
    /// and states (states divided over DP with ZeRO-1).
    func optimizerSeconds(dataRanks: Int) -> Double {
        let parameters = geometry.stageLayers.indices.flatMap { stage in
            (0..<tensorRanks).map { geometry.parameterElements(rank: $0, stage: stage, model: model) }
        }.max() ?? 0
        var state = workload.optimizer.stateBytesPerParameter + (workload.mixedPrecision ? 4 : 0)
        if workload.shardOptimizerStates { state /= Double(dataRanks) }
        let bytes = Double(parameters) * (3 * workload.computeBytes + 2 * state)
        return bytes / cluster.memoryBandwidth
    }
}
