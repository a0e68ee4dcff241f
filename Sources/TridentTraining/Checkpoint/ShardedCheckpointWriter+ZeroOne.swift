extension ShardedCheckpointWriter {
    /// Under ZeRO-1, what this rank writes: of every view its tensor rank writes
    /// (`GradientSharing.counted`), the elements whose moments it holds (`optimizerRanges`),
    /// values and moments, as rectangles of the full tensor (`TensorRegion.rectangles`). The
    /// replicas of a data group hold disjoint ranges that together cover each view, so every
    /// element is written once, and the manifest lists plain slices any layout can read.
    static func shardedParts(_ session: TrainingSession,
                             moments: [(UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>)]) -> [CheckpointShardFile.Part] {
        let parameters = session.model.parameters, tensorRank = session.groups.tensor.rank
        return parameters.indices.filter { parameters[$0].sharing.counted(tensorRank: tensorRank) }.flatMap { i in
            let parameter = parameters[i], range = session.optimizerRanges[i]
            let values = UnsafeBufferPointer(parameter.values)
            return parameter.region.rectangles(ofElements: range).map { piece -> CheckpointShardFile.Part in
                let local = piece.offset..<(piece.offset + piece.region.count)
                return CheckpointShardFile.Part(
                    name: parameter.name, region: piece.region, vector: parameter.globalShape.count == 1,
                    values: UnsafeBufferPointer(rebasing: values[(range.lowerBound + local.lowerBound)..<(range.lowerBound + local.upperBound)]),
                    firstMoment: UnsafeBufferPointer(rebasing: moments[i].0[local]),
                    secondMoment: UnsafeBufferPointer(rebasing: moments[i].1[local]))
            }
        }
    }
}
