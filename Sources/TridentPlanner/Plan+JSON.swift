import Foundation

/// One configuration as it appears in `trident plan --json`.
public struct ConfigurationReport: Sendable, Equatable, Codable {
    public var tp: Int
    public var pp: Int
    public var dp: Int
    public var fits: Bool
    public var memoryPerDeviceBytes: Double
    public var lackingBytes: Double
    public var tokensPerSecond: Double
    public var communicationShare: Double
    public var bubbleShare: Double
    public var memory: MemoryBreakdown
    public var estimate: CostEstimate
    public var communication: CommunicationAnalysis

    public init(_ evaluation: Evaluation) {
        tp = evaluation.configuration.tensor
        pp = evaluation.configuration.pipeline
        dp = evaluation.configuration.data
        fits = evaluation.fits
        memoryPerDeviceBytes = evaluation.memory.total
        lackingBytes = evaluation.lackingBytes
        tokensPerSecond = evaluation.cost.tokensPerSecond
        communicationShare = evaluation.cost.communicationShare
        bubbleShare = evaluation.cost.bubbleShare
        memory = evaluation.memory
        estimate = evaluation.cost
        communication = evaluation.communication
    }

    enum CodingKeys: String, CodingKey {
        case tp, pp, dp, fits, memory, estimate, communication
        case memoryPerDeviceBytes = "memory_per_device_bytes"
        case lackingBytes = "lacking_bytes"
        case tokensPerSecond = "tokens_per_second"
        case communicationShare = "communication_share"
        case bubbleShare = "bubble_share"
    }
}

/// The whole plan as one JSON object: `{"configurations": [...], "recommended": {...} or
/// null, "reason": "...", ...}`.
public struct PlanReport: Sendable, Equatable, Encodable {
    public var model: String
    public var mode: String
    public var devices: Int
    public var deviceMemoryBytes: Double
    public var configurations: [ConfigurationReport]
    public var recommended: ConfigurationReport?
    public var reason: String
    /// With `--measure`: predicted next to measured for the runs made (omitted otherwise).
    public var measurements: [ComparisonReport]?
    /// With calibration: how the device rates were obtained (omitted otherwise).
    public var calibration: [String]?

    public init(_ plan: Plan, measurements: [Comparison]? = nil, calibration: [String]? = nil) {
        self.measurements = measurements?.map(ComparisonReport.init)
        self.calibration = calibration
        model = plan.model.name
        switch plan.workload {
        case .inference: mode = "inference"
        case .training: mode = "training"
        }
        devices = plan.cluster.deviceCount
        deviceMemoryBytes = plan.cluster.memoryBytes
        configurations = plan.evaluations.map(ConfigurationReport.init)
        recommended = plan.recommended.map(ConfigurationReport.init)
        reason = plan.reason
    }

    enum CodingKeys: String, CodingKey {
        case model, mode, devices, configurations, recommended, reason, measurements, calibration
        case deviceMemoryBytes = "device_memory_bytes"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(mode, forKey: .mode)
        try c.encode(devices, forKey: .devices)
        try c.encode(deviceMemoryBytes, forKey: .deviceMemoryBytes)
        try c.encode(configurations, forKey: .configurations)
        try c.encode(recommended, forKey: .recommended)  // null when nothing fits
        try c.encode(reason, forKey: .reason)
        try c.encodeIfPresent(measurements, forKey: .measurements)
        try c.encodeIfPresent(calibration, forKey: .calibration)
    }

    /// Pretty-printed JSON with sorted keys.
    public func jsonString() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
