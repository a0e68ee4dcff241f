/// The planner's answer: every configuration, ranked, and the recommendation.
public struct Plan: Sendable, Equatable {
    public var model: PlannerModel
    public var cluster: Cluster
    public var workload: Workload
    /// Fitting configurations by throughput (fastest first), then the ones that do not
    /// fit by how much they lack (least first).
    public var evaluations: [Evaluation]
    /// The fastest fitting configuration, or nil when none fits.
    public var recommended: Evaluation?
    /// One or two lines saying why (or what is lacking).
    public var reason: String
}

/// Recommends a (TP, PP, DP) split. Pure: the same inputs give the same plan.
public enum Planner {
    /// Evaluates every (TP, PP, DP) whose product is the device count (TP up to the head
    /// count, PP up to the layer count), ranks them and picks the fastest that fits.
    public static func plan(model: PlannerModel, cluster: Cluster, workload: Workload) -> Plan {
        let c = model.configuration
        let configurations = ParallelConfiguration.all(devices: cluster.deviceCount, maxTensor: c.headCount,
                                                       maxPipeline: c.layerCount)
        return plan(model: model, cluster: cluster, workload: workload, configurations: configurations)
    }

    static func plan(model: PlannerModel, cluster: Cluster, workload: Workload,
                     configurations: [ParallelConfiguration]) -> Plan {
        let evaluations = rank(configurations.map {
            Evaluation(model: model, cluster: cluster, configuration: $0, workload: workload)
        })
        let recommended = evaluations.first(where: \.fits)
        let reason = Reason.explain(recommended: recommended, evaluations: evaluations, cluster: cluster,
                                    workload: workload)
        return Plan(model: model, cluster: cluster, workload: workload, evaluations: evaluations,
                    recommended: recommended, reason: reason)
    }

    /// Fitting first by tokens/s (ties: less memory, then smaller TP, then smaller PP),
    /// then non-fitting by lacking bytes.
    public static func rank(_ evaluations: [Evaluation]) -> [Evaluation] {
        evaluations.sorted { a, b in
            if a.fits != b.fits { return a.fits }
            if !a.fits { return a.lackingBytes < b.lackingBytes }
            let fa = a.cost.tokensPerSecond, fb = b.cost.tokensPerSecond
            if abs(fa - fb) > 1e-9 * max(fa, fb) { return fa > fb }
            if a.memory.total != b.memory.total { return a.memory.total < b.memory.total }
            if a.configuration.tensor != b.configuration.tensor { return a.configuration.tensor < b.configuration.tensor }
            return a.configuration.pipeline < b.configuration.pipeline
        }
    }
}
