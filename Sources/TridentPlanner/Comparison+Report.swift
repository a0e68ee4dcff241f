import Foundation

extension Comparison {
    /// Predicted next to measured, one row per comparison: decode tokens/s, memory per
    /// device and communication share, each with its `measured / predicted` ratio; rows
    /// that were not run show their note instead.
    public static func renderTable(_ comparisons: [Comparison]) -> String {
        var rows = [["config", "devices", "decode tok/s pred", "measured", "ratio", "memory/device pred",
                     "peak RSS", "ratio", "comm % pred", "measured", "within 30%"]]
        for c in comparisons {
            let p = c.predicted
            var row = [Formatting.configuration(c.configuration), "\(c.configuration.deviceCount)",
                       Formatting.tokensPerSecond(p.decodeTokensPerSecond)]
            if let m = c.measured {
                row += [m.decodeTokensPerSecond.map(Formatting.tokensPerSecond) ?? "-", ratio(c.decodeRatio),
                        Formatting.bytes(c.predictedMemoryBytes), m.peakMemoryBytes.map(Formatting.bytes) ?? "-",
                        ratio(c.memoryRatio), Formatting.percent(p.communicationShare),
                        m.communicationShare.map(Formatting.percent) ?? "-",
                        c.decodeWithin(0.3).map { $0 ? "yes" : "no" } ?? "-"]
            } else {
                row += [c.note ?? "not measured", "", Formatting.bytes(c.predictedMemoryBytes), "", "",
                        Formatting.percent(p.communicationShare), "", ""]
            }
            rows.append(row)
        }
        return Plan.align(rows).joined(separator: "\n")
    }

    private static func ratio(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "-" }
}

/// One comparison as it appears under `"measurements"` in `trident plan --measure --json`.
public struct ComparisonReport: Sendable, Equatable, Encodable {
    public var tp: Int
    public var pp: Int
    public var dp: Int
    public var predicted: CostEstimate
    public var predictedMemoryBytes: Double
    public var measured: MeasuredRun?
    public var note: String?
    public var decodeRatio: Double?
    public var memoryRatio: Double?
    public var communicationRatio: Double?

    public init(_ c: Comparison) {
        tp = c.configuration.tensor
        pp = c.configuration.pipeline
        dp = c.configuration.data
        predicted = c.predicted
        predictedMemoryBytes = c.predictedMemoryBytes
        measured = c.measured
        note = c.note
        decodeRatio = c.decodeRatio
        memoryRatio = c.memoryRatio
        communicationRatio = c.communicationRatio
    }

    enum CodingKeys: String, CodingKey {
        case tp, pp, dp, predicted, measured, note
        case predictedMemoryBytes = "predicted_memory_bytes"
        case decodeRatio = "decode_ratio"
        case memoryRatio = "memory_ratio"
        case communicationRatio = "communication_ratio"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tp, forKey: .tp)
        try c.encode(pp, forKey: .pp)
        try c.encode(dp, forKey: .dp)
        try c.encode(predicted, forKey: .predicted)
        try c.encode(predictedMemoryBytes, forKey: .predictedMemoryBytes)
        try c.encode(measured, forKey: .measured)  // null when not run
        try c.encode(note, forKey: .note)
        try c.encode(decodeRatio, forKey: .decodeRatio)
        try c.encode(memoryRatio, forKey: .memoryRatio)
        try c.encode(communicationRatio, forKey: .communicationRatio)
    }
}
