import Foundation

extension Plan {
    /// The ranked table, the recommended configuration's communication analysis and the
    /// reason, as printed by `trident plan`.
    public func renderText() -> String {
        var lines = [header()]
        let columns = ["rank", "TP", "PP", "DP", "memory/device", "tokens/s", "comm %", "bubble %", "fits"]
        var rows: [[String]] = [columns]
        for (index, e) in evaluations.enumerated() {
            let fits = e.fits ? "yes" : "no (lacks \(Formatting.bytes(e.lackingBytes)))"
            rows.append(["\(index + 1)", "\(e.configuration.tensor)", "\(e.configuration.pipeline)",
                         "\(e.configuration.data)", Formatting.bytes(e.memory.total),
                         Formatting.tokensPerSecond(e.cost.tokensPerSecond), Formatting.percent(e.cost.communicationShare),
                         Formatting.percent(e.cost.bubbleShare), fits])
        }
        lines += Self.align(rows)
        lines.append("")
        if let best = recommended {
            lines.append("Recommended: \(Formatting.configuration(best.configuration))")
            lines += Self.memoryLines(best.memory)
            lines += Self.communicationLines(best.communication)
        } else {
            lines.append("Recommended: none")
        }
        lines.append(reason)
        return lines.joined(separator: "\n")
    }

    private func header() -> String {
        let c = cluster
        let work: String
        switch workload {
        case .inference(let w):
            work = "inference, batch \(w.batchSize), prompt \(w.promptLength), output \(w.outputLength), "
                + "weights \(w.weightFormat.rawValue); tokens/s = generated tokens over whole requests"
        case .training(let w):
            work = "training, global batch \(w.globalBatchSize), micro-batch \(w.microBatchSize), "
                + "sequence \(w.sequenceLength), \(w.mixedPrecision ? "mixed precision" : "fp32"); tokens/s = trained tokens"
        }
        return "\(model.name) (\(String(format: "%.2f", Double(model.parameterCount) / 1e9))B parameters) on "
            + "\(c.deviceCount) devices (\(c.devicesPerNode)/node, \(Formatting.bytes(c.memoryBytes)), "
            + "\(Formatting.flops(c.flopsPerSecond)), \(Formatting.rate(c.memoryBandwidth)) memory, "
            + "links \(Formatting.rate(c.intraNode.bandwidth)) intra / \(Formatting.rate(c.interNode.bandwidth)) inter)\n"
            + work
    }

    static func memoryLines(_ m: MemoryBreakdown) -> [String] {
        var parts = ["weights \(Formatting.bytes(m.weights))", "KV cache \(Formatting.bytes(m.kvCache))",
                     "activations \(Formatting.bytes(m.activations))"]
        if m.gradients > 0 { parts.append("gradients \(Formatting.bytes(m.gradients))") }
        if m.optimizerStates > 0 { parts.append("optimizer \(Formatting.bytes(m.optimizerStates))") }
        return ["  memory/device: " + parts.joined(separator: ", ")]
    }

    static func communicationLines(_ a: CommunicationAnalysis) -> [String] {
        guard !a.items.isEmpty else { return ["  communication: none"] }
        var lines = ["  communication per \(a.unit) of one replica (\(Formatting.bytes(a.bytesPerToken)) sent per rank per token):"]
        for item in a.items {
            let algorithm = item.algorithm == .none ? "" : " \(item.algorithm.rawValue)"
            lines.append("    \(item.kind.rawValue): \(String(format: "%.0f", item.occurrences)) x "
                + "\(Formatting.bytes(item.messageBytes))\(algorithm) on \(item.link.rawValue), "
                + "\(Formatting.bytes(item.bytesSentPerRank)) sent per rank, "
                + String(format: "%.3f ms", item.seconds * 1e3))
        }
        return lines
    }

    static func align(_ rows: [[String]]) -> [String] {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
    }
}
