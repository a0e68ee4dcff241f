extension InferenceCostModel {
    /// Prices one pass of one micro-batch on one stage.
    struct StageCalculator {
        let model: PlannerModel
        let cluster: Cluster
        let geometry: ShardGeometry
        let links: ConfigurationLinks
        let workload: InferenceWorkload

        var tensorRanks: Int { geometry.queryHeads.count }
        var lastStage: Int { geometry.stageLayers.count - 1 }
        var activationBytes: Double { workload.activationFormat.bytesPerElement }

        /// Roofline time of the busiest tensor rank of `stage` plus its communication.
        func time(stage: Int, pass: Pass) -> StageTime {
            let compute = (0..<tensorRanks).map { roofline(rank: $0, stage: stage, pass: pass) }.max() ?? 0
            return StageTime(compute: compute, communication: communication(stage: stage, pass: pass))
        }

        func roofline(rank: Int, stage: Int, pass: Pass) -> Double {
            let w = work(rank: rank, stage: stage, pass: pass)
            return cluster.passTime(flops: w.flops, bytes: w.bytes)
        }

        /// Arithmetic (FLOPs) and memory traffic (bytes: weights read once, KV cache read
        /// and written) of tensor rank `rank` of `stage` for one pass.
        func work(rank: Int, stage: Int, pass: Pass) -> (flops: Double, bytes: Double) {
            let c = model.configuration
            let layers = Double(geometry.stageLayers[stage])
            let tokens = Double(pass.tokens)
            let matrixElements = Double(geometry.layerMatrices(rank: rank, model: model).reduce(0) { $0 + $1.elements })
            let attention = 4 * Double(geometry.queryHeads[rank] * c.headDimension) * pass.context
            var flops = layers * tokens * (2 * matrixElements + attention)
            if stage == lastStage {  // LM head on each sequence's last token
                flops += 2 * Double(pass.sequences) * Double(geometry.vocabularyRows[rank] * c.hiddenSize)
            }
            let kvPerTokenPerLayer = 2 * workload.kvCacheFormat.rowBytes(geometry.kvHeads[rank] * c.headDimension)
            let kvTraffic = layers * kvPerTokenPerLayer * (Double(pass.sequences) * pass.cachedTokens + tokens)
            let bytes = geometry.weightBytes(rank: rank, stage: stage, model: model, format: workload.weightFormat)
                + kvTraffic
            return (flops, bytes)
        }

        /// TP all-reduces, vocabulary collectives and the send to the next stage.
        func communication(stage: Int, pass: Pass) -> Double {
            messages(stage: stage, pass: pass).reduce(0) { $0 + $1.occurrences * $1.seconds }
        }

        /// Every message `stage` sends per pass, one item per kind with per-message time.
        func messages(stage: Int, pass: Pass) -> [CommunicationItem] {
            let c = model.configuration
            let hiddenBytes = Double(pass.tokens * c.hiddenSize) * activationBytes
            var items: [CommunicationItem] = []
            if tensorRanks > 1 {
                let (algorithm, seconds) = CollectiveCost.allReduce(bytes: hiddenBytes, ranks: tensorRanks, link: links.tensor)
                let sent = CollectiveCost.allReduceBytesSentPerRank(algorithm, bytes: hiddenBytes, ranks: tensorRanks)
                items.append(CommunicationItem(kind: .tensorAllReduce,
                                               occurrences: 2 * Double(geometry.stageLayers[stage]),
                                               messageBytes: hiddenBytes, bytesSentPerRank: sent, seconds: seconds,
                                               algorithm: algorithm, link: links.tensorKind))
                if stage == 0 {
                    items.append(CommunicationItem(kind: .embeddingAllReduce, occurrences: 1, messageBytes: hiddenBytes,
                                                   bytesSentPerRank: sent, seconds: seconds, algorithm: algorithm,
                                                   link: links.tensorKind))
                }
                if stage == lastStage {
                    let logits = Double(pass.sequences * c.vocabularySize) * 4
                    let seconds = CollectiveCost.ringAllGather(bytes: logits, ranks: tensorRanks, link: links.tensor)
                    let sent = logits * Double(tensorRanks - 1) / Double(tensorRanks)
                    items.append(CommunicationItem(kind: .logitsAllGather, occurrences: 1, messageBytes: logits,
                                                   bytesSentPerRank: sent, seconds: seconds, algorithm: .ring,
                                                   link: links.tensorKind))
                }
            }
            if stage < lastStage {
                let link = links.pipeline[stage]
                items.append(CommunicationItem(kind: .pipelineSendRecv, occurrences: 1, messageBytes: hiddenBytes,
                                               bytesSentPerRank: hiddenBytes, seconds: link.sendTime(bytes: hiddenBytes),
                                               algorithm: .none, link: links.pipelineKinds[stage]))
            }
            return items
        }

        /// Communication per decode round of one replica, merged by kind over all stages
        /// and micro-batches (occurrences and bytes summed; seconds per unit).
        func items(pass: Pass, microBatches: Int) -> [CommunicationItem] {
            var merged: [CommunicationKind: CommunicationItem] = [:]
            var order: [CommunicationKind] = []
            let m = Double(microBatches)
            for stage in geometry.stageLayers.indices {
                for item in messages(stage: stage, pass: pass) {
                    var scaled = item
                    scaled.occurrences = item.occurrences * m
                    scaled.bytesSentPerRank = item.bytesSentPerRank * item.occurrences * m
                    scaled.seconds = item.seconds * item.occurrences * m
                    if var existing = merged[item.kind] {
                        existing.occurrences += scaled.occurrences
                        existing.bytesSentPerRank += scaled.bytesSentPerRank
                        existing.seconds += scaled.seconds
                        existing.messageBytes = max(existing.messageBytes, scaled.messageBytes)
                        merged[item.kind] = existing
                    } else {
                        merged[item.kind] = scaled
                        order.append(item.kind)
                    }
                }
            }
            return order.compactMap { merged[$0] }
        }
    }
}
