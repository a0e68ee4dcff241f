import Foundation

/// The one- or two-line explanation of a plan.
enum Reason {
    static func explain(recommended: Evaluation?, evaluations: [Evaluation], cluster: Cluster,
                        workload: Workload) -> String {
        guard let best = recommended else { return nothingFits(evaluations: evaluations, cluster: cluster) }
        let c = best.configuration
        let memory = "\(Formatting.bytes(best.memory.total)) of \(Formatting.bytes(cluster.memoryBytes)) per device"
        if c.tensor == 1 && c.pipeline == 1 {
            if c.data == 1 { return "The model fits on one device (\(memory)): nothing to split." }
            var text = "The model fits on one device (\(memory)), so each of the \(c.data) devices holds a full "
                + "replica (DP=\(c.data)) and serving needs no communication per token."
            if case .inference(let w) = workload, w.batchSize < c.data {
                let busy = w.batchSize == 1 ? "only 1 replica is" : "only \(w.batchSize) replicas are"
                text += "\nWith a batch of \(w.batchSize), \(busy) busy: one device per request is enough; "
                    + "splitting the model would only add communication."
            }
            return text
        }
        let runnerUp = evaluations.first { $0.fits && $0.configuration != c }
        var first = "\(Formatting.configuration(c)) is fastest that fits (\(memory), "
            + "\(Formatting.tokensPerSecond(best.cost.tokensPerSecond)) tokens/s"
        if let runnerUp, runnerUp.cost.tokensPerSecond > 0 {
            let ratio = best.cost.tokensPerSecond / runnerUp.cost.tokensPerSecond
            first += String(format: ", %.2fx ", ratio) + Formatting.configuration(runnerUp.configuration)
        }
        first += ")."
        return first + "\n" + whyAxes(best, evaluations: evaluations, cluster: cluster)
    }

    static func nothingFits(evaluations: [Evaluation], cluster: Cluster) -> String {
        guard let closest = evaluations.min(by: { $0.lackingBytes < $1.lackingBytes }) else {
            return "No configuration is possible for \(cluster.deviceCount) devices."
        }
        return "Does not fit anywhere: the closest, \(Formatting.configuration(closest.configuration)), needs "
            + "\(Formatting.bytes(closest.memory.total)) per device, \(Formatting.bytes(closest.lackingBytes)) more "
            + "than the \(Formatting.bytes(cluster.memoryBytes)) available.\nUse more devices, a quantized weight "
            + "format, a smaller batch or shorter sequences."
    }

    /// Why each axis larger than one is there.
    static func whyAxes(_ best: Evaluation, evaluations: [Evaluation], cluster: Cluster) -> String {
        let c = best.configuration
        let links = ConfigurationLinks(cluster: cluster, configuration: c)
        var clauses: [String] = []
        if c.tensor > 1 {
            let place = links.tensorKind == .interNode ? "across nodes" : "within a node"
            let link = links.tensorKind == .interNode ? cluster.interNode : cluster.intraNode
            clauses.append("TP=\(c.tensor) \(place) because it divides every layer's weight reads by \(c.tensor) "
                + "and its 2 all-reduces per layer ride the \(Formatting.rate(link.bandwidth)) link "
                + "(communication \(Formatting.percent(best.cost.communicationShare)))")
        }
        if c.pipeline > 1 {
            let place = links.pipelineKinds.contains(.interNode) ? " across nodes" : ""
            let smallerTP = evaluations.filter { $0.configuration.pipeline == 1 && $0.configuration.data == c.data }
            let why = smallerTP.allSatisfy({ !$0.fits }) ? "layers must be split further to fit"
                : "it sends only one activation per micro-batch"
            clauses.append("PP=\(c.pipeline)\(place) because \(why) (bubble \(Formatting.percent(best.cost.bubbleShare)))")
        }
        if c.data > 1 {
            clauses.append("DP=\(c.data) replicas multiply throughput once the model fits in \(c.tensor * c.pipeline) devices")
        }
        return clauses.joined(separator: "; ") + "."
    }
}
