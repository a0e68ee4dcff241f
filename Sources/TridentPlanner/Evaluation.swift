/// Everything predicted for one configuration.
public struct Evaluation: Sendable, Equatable {
    public var configuration: ParallelConfiguration
    /// Memory of the heaviest device.
    public var memory: MemoryBreakdown
    /// Usable memory per device, bytes.
    public var capacity: Double
    public var cost: CostEstimate
    public var communication: CommunicationAnalysis

    /// Whether the heaviest device's memory fits.
    public var fits: Bool { memory.total <= capacity }
    /// Bytes the heaviest device lacks (0 when it fits).
    public var lackingBytes: Double { max(0, memory.total - capacity) }

    /// Evaluates `configuration` of `model` on `cluster` for `workload`.
    public init(model: PlannerModel, cluster: Cluster, configuration: ParallelConfiguration, workload: Workload) {
        precondition(configuration.deviceCount == cluster.deviceCount,
                     "\(configuration) uses \(configuration.deviceCount) devices, the cluster has \(cluster.deviceCount)")
        self.configuration = configuration
        memory = MemoryModel.perDevice(model: model, configuration: configuration, workload: workload)
        capacity = cluster.memoryBytes
        switch workload {
        case .inference(let w):
            (cost, communication) = InferenceCostModel.estimate(model: model, cluster: cluster,
                                                                configuration: configuration, workload: w)
        case .training(let w):
            (cost, communication) = TrainingCostModel.estimate(model: model, cluster: cluster,
                                                               configuration: configuration, workload: w)
        }
    }
}
