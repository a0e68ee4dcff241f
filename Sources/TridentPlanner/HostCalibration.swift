/// Effective rates of this host's "devices" (one core each: one rank, one thread) derived
/// from two quick measurements, so that predictions use measured rates as inputs:
///
/// - `trident bench model --model M --tp 1 --threads 1 --json`: the prefill and one decode
///   step, each priced as FLOPs / compute rate + bytes / memory bandwidth (the bookkeeping of
///   the cost model; a CPU core does not overlap the two), give two equations for the two rates.
/// - `trident bench allreduce --backend tcp --nproc 2 --sizes ... --json`: a least-squares
///   alpha-beta line through the timings gives the link's latency and bandwidth.
///
/// With these, the TP=1 decode prediction reproduces the calibration run (by construction);
/// multi-rank predictions then test the model's sharding and communication terms.
public struct HostCalibration: Sendable, Equatable {
    /// Sustained FLOP/s of one device (from the prefill).
    public var flopsPerSecond: Double
    /// Effective bytes/s of one device (from decoding; includes dequantization cost).
    public var memoryBandwidth: Double
    /// Link between two ranks of this host.
    public var link: Link
    /// How each number was obtained, one line each, for printing.
    public var derivation: [String]

    public init(flopsPerSecond: Double, memoryBandwidth: Double, link: Link, derivation: [String] = []) {
        precondition(flopsPerSecond > 0 && memoryBandwidth > 0, "calibrated rates must be positive")
        self.flopsPerSecond = flopsPerSecond
        self.memoryBandwidth = memoryBandwidth
        self.link = link
        self.derivation = derivation
    }

    /// Derives the rates from a single-rank model benchmark of `model` and a two-rank
    /// all-reduce benchmark. `formats` supplies the weight, KV-cache and activation formats
    /// the engine ran with; the prompt and decode lengths are the benchmark's own.
    /// - Precondition: `singleRank.tp == 1`.
    public init(model: PlannerModel, formats: InferenceWorkload, singleRank: ModelBenchReport,
                allReduce: AllReduceBenchReport) throws(BenchParseError) {
        precondition(singleRank.tp == 1, "calibration needs a TP=1 benchmark, got TP=\(singleRank.tp)")
        let workload = InferenceWorkload(batchSize: 1, promptLength: singleRank.promptTokens,
                                         outputLength: singleRank.decodeTokens, weightFormat: formats.weightFormat,
                                         kvCacheFormat: formats.kvCacheFormat, activationFormat: formats.activationFormat)
        let work = SingleDeviceWork(model: model, workload: workload)
        let prefillSeconds = work.prefillTokens / singleRank.prefillTokensPerSecond
        let stepSeconds = work.decodeTokens / singleRank.decodeTokensPerSecond
        let link = try allReduce.fittedLink()
        // A CPU core's compute and memory times add up (`Cluster.overlapsComputeAndMemory`):
        // solve prefill = F_p/F + B_p/B and decode step = F_d/F + B_d/B for the two rates.
        let determinant = work.prefillFLOPs * work.decodeBytes - work.decodeFLOPs * work.prefillBytes
        let inverseFlops = (prefillSeconds * work.decodeBytes - stepSeconds * work.prefillBytes) / determinant
        let inverseBandwidth = (work.prefillFLOPs * stepSeconds - work.decodeFLOPs * prefillSeconds) / determinant
        guard inverseFlops > 0, inverseBandwidth > 0 else {
            throw .malformed(command: "trident bench model --json", reason: String(
                format: "prefill %.3f s and decode step %.4f s admit no positive compute and memory rates",
                prefillSeconds, stepSeconds))
        }
        let flops = 1 / inverseFlops, bandwidth = 1 / inverseBandwidth
        let sizes = allReduce.results.map { "\($0.bytes)" }.joined(separator: ",")
        self.init(flopsPerSecond: flops, memoryBandwidth: bandwidth, link: link, derivation: [
            String(format: "compute %.1f GFLOP/s and memory bandwidth %@ reproduce both single-rank times as "
                   + "compute + memory: %d-token prefill %.3f s (%.2f GFLOP, %@), decode step %.4f s (%.2f GFLOP, "
                   + "%@; bench model, TP=1, 1 thread)", flops / 1e9, Formatting.rate(bandwidth),
                   singleRank.promptTokens, prefillSeconds, work.prefillFLOPs / 1e9, Formatting.bytes(work.prefillBytes),
                   stepSeconds, work.decodeFLOPs / 1e9, Formatting.bytes(work.decodeBytes)),
            String(format: "link latency %.2f us, bandwidth %@ (alpha-beta fit of bench allreduce, 2 ranks, sizes %@)",
                   link.latency * 1e6, Formatting.rate(link.bandwidth), sizes),
        ])
    }

    /// A one-node cluster of `devices` such devices with `memoryBytes` each.
    public func cluster(devices: Int, memoryBytes: Double) -> Cluster {
        Cluster(deviceCount: devices, devicesPerNode: devices, memoryBytes: memoryBytes, flopsPerSecond: flopsPerSecond,
                memoryBandwidth: memoryBandwidth, intraNode: link, interNode: link, overlapsComputeAndMemory: false)
    }
}

extension HostCalibration {
    /// The calibration with the link latency raised to what an all-reduce costs between
    /// ranks that compute in between (`probe`): `latency = seconds per collective - bytes /
    /// bandwidth`, when that exceeds the back-to-back latency. On a busy host this adds the
    /// time a rank waits for its peer to be scheduled; on an idle one it changes little.
    public func including(_ probe: CollectiveProbeReport) -> HostCalibration {
        let waiting = probe.secondsPerCollective - Double(probe.bytes) / link.bandwidth
        var result = self
        if waiting > link.latency { result.link = Link(bandwidth: link.bandwidth, latency: waiting) }
        result.derivation.append(String(
            format: "link latency used %.2f us: an all-reduce of %d B between ranks computing %.0f us in between "
                + "costs %.2f us (%d collectives)", result.link.latency * 1e6, probe.bytes, probe.gapSeconds * 1e6,
            probe.secondsPerCollective * 1e6, probe.iterations))
        return result
    }
}
