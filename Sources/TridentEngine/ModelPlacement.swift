import TridentCollectives
import TridentModel

/// Where every part of a model lives on a `tensor x pipeline x data` rank grid, validated
/// against the model's configuration before any weight is read.
///
/// - Tensor parallelism splits every stage's heads and MLP (`ShardingPlan`).
/// - Pipeline stage `s` runs the contiguous blocks `partition.ranges[s]`; stage 0 also owns the
///   embedding and the last stage the final norm and LM head.
/// - Each of the `data` replicas holds a full `tensor x pipeline` copy and serves its own
///   sequences. The driver numbers sequence slots globally, `0 ..< slotCount`; slot `g` lives
///   in replica `g % data` as its local slot `g / data`, so filling the lowest free slots
///   spreads sequences round-robin over the replicas.
///
/// Worked example, SmolLM2-135M (30 blocks) with `--tp 2 --pp 2 --dp 2` and 4 slots per replica:
/// stage 0 runs blocks `0..<19` with the embedding, stage 1 blocks `19..<30` with the LM head;
/// global slots 0, 2, 4, 6 are replica 0's local slots 0-3 and 1, 3, 5, 7 replica 1's; replica
/// 1's logits come from world rank 6 (tensor 0, stage 1, replica 1).
public struct ModelPlacement: Sendable, Equatable, CustomStringConvertible {
    public let layout: ParallelLayout
    public let partition: StagePartition
    /// Sequences each replica can hold at once (its KV-cache slots).
    public let slotsPerReplica: Int

    /// - Parameter pipelineLayers: blocks per stage as `--pipeline-layers` spells them
    ///   (`"10,10,10"`); nil for the cost-balanced split (`StagePartition.balanced`).
    /// - Throws: `ShardingError` when the tensor-parallel size does not fit the heads,
    ///   `StagePartitionError` for a pipeline that does not fit the blocks, `PlacementError`
    ///   for a bad slot count. Nothing is read from disk.
    public init(configuration: ModelConfiguration, layout: ParallelLayout, pipelineLayers: String? = nil,
                slotsPerReplica: Int = 1) throws {
        guard slotsPerReplica >= 1 else { throw PlacementError.badSlotCount(slotsPerReplica) }
        _ = try ShardingPlan(configuration: configuration, tensorParallelSize: layout.tensor, rank: 0)
        if let pipelineLayers {
            partition = try StagePartition.parse(pipelineLayers, layerCount: configuration.layerCount,
                                                 stages: layout.pipeline)
        } else {
            partition = try StagePartition.balanced(configuration: configuration, stages: layout.pipeline)
        }
        self.layout = layout
        self.slotsPerReplica = slotsPerReplica
    }

    /// Global sequence slots the driver can use: `data * slotsPerReplica`.
    public var slotCount: Int { layout.data * slotsPerReplica }

    /// The replica that serves global slot `slot`.
    public func replica(ofSlot slot: Int) -> Int { slot % layout.data }

    /// `slot`'s index in its replica's KV cache.
    public func localSlot(_ slot: Int) -> Int { slot / layout.data }

    /// The global slot of `replica`'s local slot `local`.
    public func globalSlot(replica: Int, local: Int) -> Int { local * layout.data + replica }

    /// World rank that sends `replica`'s logits to the driver: tensor rank 0 of its last stage.
    public func logitsSource(replica: Int) -> Int {
        layout.rank(at: ParallelCoordinates(tensor: 0, pipeline: layout.pipeline - 1, data: replica))
    }

    /// E.g. `tp=2 pp=2 dp=2, stages 19,11, 4 slot(s) per replica`.
    public var description: String {
        "tp=\(layout.tensor) pp=\(layout.pipeline) dp=\(layout.data), stage blocks \(partition), "
            + "\(slotsPerReplica) slot(s) per replica"
    }
}

/// A placement that cannot work, found before loading.
public enum PlacementError: Error, CustomStringConvertible, Equatable {
    case badSlotCount(Int)

    public var description: String {
        switch self {
        case .badSlotCount(let n): "sequence slots per replica must be at least 1, found \(n)"
        }
    }
}
