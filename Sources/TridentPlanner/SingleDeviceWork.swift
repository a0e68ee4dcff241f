/// Arithmetic and memory traffic of serving `workload` on one device (TP = PP = DP = 1),
/// counted exactly as the inference cost model counts them. Host calibration divides these
/// by measured times to get the device's effective compute rate and memory bandwidth, so a
/// calibrated prediction uses the same bookkeeping as the measurement it came from.
public struct SingleDeviceWork: Sendable, Equatable {
    /// FLOPs of the prefill of one batch of prompts (matmuls, attention scores, LM head on
    /// the last token of each sequence).
    public var prefillFLOPs: Double
    /// Bytes read or written by that prefill (weights once, KV cache written).
    public var prefillBytes: Double
    /// FLOPs of one decode step (one new token per sequence at the mean context).
    public var decodeFLOPs: Double
    /// Bytes of one decode step (every weight once, the KV cache read and one entry written).
    public var decodeBytes: Double
    /// Prompt tokens the prefill processes (batch x prompt length).
    public var prefillTokens: Double
    /// Tokens one decode step produces (the batch).
    public var decodeTokens: Double

    /// Counts the work of `model` serving `workload` on a single device.
    public init(model: PlannerModel, workload: InferenceWorkload) {
        let configuration = ParallelConfiguration(tensor: 1, pipeline: 1, data: 1)
        let geometry = ShardGeometry(model: model, tensor: 1, pipeline: 1, blockSize: workload.weightFormat.blockSize)
        // Rates are irrelevant to `work`; any valid cluster will do.
        let unit = Link(bandwidth: 1, latency: 0)
        let cluster = Cluster(deviceCount: 1, devicesPerNode: 1, memoryBytes: 1, flopsPerSecond: 1,
                              memoryBandwidth: 1, intraNode: unit, interNode: unit)
        let calculator = InferenceCostModel.StageCalculator(
            model: model, cluster: cluster, geometry: geometry,
            links: ConfigurationLinks(cluster: cluster, configuration: configuration), workload: workload)
        let partition = InferencePartition(workload: workload, configuration: configuration)
        let (prefill, decode) = InferenceCostModel.passes(workload: workload, partition: partition)
        (prefillFLOPs, prefillBytes) = calculator.work(rank: 0, stage: 0, pass: prefill)
        (decodeFLOPs, decodeBytes) = calculator.work(rank: 0, stage: 0, pass: decode)
        prefillTokens = Double(prefill.tokens)
        decodeTokens = Double(decode.tokens)
    }
}
