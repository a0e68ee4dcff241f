/// The links each kind of communication of a configuration runs on. A group that spans
/// two nodes in any replica or stage runs at inter-node speed (the busiest replica sets
/// the pace).
public struct ConfigurationLinks: Sendable, Equatable {
    /// Link of the tensor-parallel groups.
    public let tensor: Link
    public let tensorKind: LinkKind
    /// Link of each stage boundary `s -> s+1` (count `pp - 1`).
    public let pipeline: [Link]
    public let pipelineKinds: [LinkKind]
    /// Link of the data-parallel groups.
    public let data: Link
    public let dataKind: LinkKind

    public init(cluster: Cluster, configuration: ParallelConfiguration) {
        let c = configuration
        var tensorGroups: [[Int]] = []
        var dataGroups: [[Int]] = []
        for replica in 0..<c.data {
            for stage in 0..<c.pipeline { tensorGroups.append(c.tensorGroup(stage: stage, replica: replica)) }
        }
        for stage in 0..<c.pipeline {
            for rank in 0..<c.tensor { dataGroups.append(c.dataGroup(tensorRank: rank, stage: stage)) }
        }
        (tensor, tensorKind) = Self.worst(tensorGroups, cluster: cluster, size: c.tensor)
        (data, dataKind) = Self.worst(dataGroups, cluster: cluster, size: c.data)
        var links: [Link] = []
        var kinds: [LinkKind] = []
        for stage in 0..<max(c.pipeline - 1, 0) {
            let pairs = (0..<c.data).flatMap { replica in
                (0..<c.tensor).map { t in
                    [c.firstRank(stage: stage, replica: replica) + t, c.firstRank(stage: stage + 1, replica: replica) + t]
                }
            }
            let (link, kind) = Self.worst(pairs, cluster: cluster, size: 2)
            links.append(link)
            kinds.append(kind)
        }
        pipeline = links
        pipelineKinds = kinds
    }

    private static func worst(_ groups: [[Int]], cluster: Cluster, size: Int) -> (Link, LinkKind) {
        guard size > 1 else { return (cluster.intraNode, .none) }
        let spans = groups.contains { Set($0.map(cluster.node(ofRank:))).count > 1 }
        return spans ? (cluster.interNode, .interNode) : (cluster.intraNode, .intraNode)
    }
}
