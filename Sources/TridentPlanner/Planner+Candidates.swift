extension Planner {
    /// Like `plan(model:cluster:workload:)` but evaluates only `candidates`, each of which
    /// must use every device, with TP at most the head count and PP at most the layer count.
    public static func plan(model: PlannerModel, cluster: Cluster, workload: Workload,
                            candidates: [ParallelConfiguration]) throws(PlannerError) -> Plan {
        let c = model.configuration
        for candidate in candidates {
            if candidate.deviceCount != cluster.deviceCount {
                throw .invalidConfiguration(candidate, reason: "it uses \(candidate.deviceCount) devices, "
                    + "the cluster has \(cluster.deviceCount)")
            }
            if candidate.tensor > c.headCount {
                throw .invalidConfiguration(candidate, reason: "TP is at most the \(c.headCount) query heads")
            }
            if candidate.pipeline > c.layerCount {
                throw .invalidConfiguration(candidate, reason: "PP is at most the \(c.layerCount) layers")
            }
        }
        return plan(model: model, cluster: cluster, workload: workload, configurations: candidates)
    }
}
