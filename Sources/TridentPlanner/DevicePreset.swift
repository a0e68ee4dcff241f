/// A device and its links as the planner needs them; `trident plan --device-preset`
/// starts from one of these and any explicit option overrides a field.
public struct DeviceDescription: Sendable, Equatable {
    /// Usable memory per device, bytes; nil when the host decides (cpu-local: physical
    /// memory divided among the cores).
    public var memoryBytes: Double?
    /// Sustained FLOP/s for the compute dtype.
    public var flopsPerSecond: Double
    /// Sustained memory bandwidth, bytes/s.
    public var memoryBandwidth: Double
    public var intraNode: Link
    public var interNode: Link
    /// Devices per node; nil: all devices in one node (cpu-local) or `min(devices, 8)`.
    public var devicesPerNode: Int?
    /// Whether the whole cluster is one node (a single host).
    public var singleNode: Bool
    /// KV-cache and activation formats the engine uses on this device.
    public var kvCacheFormat: NumericFormat
    public var activationFormat: NumericFormat
    /// See `Cluster.overlapsComputeAndMemory`: true for GPUs, false for a CPU core.
    public var overlapsComputeAndMemory: Bool = true
}

/// Named device descriptions.
public enum DevicePreset: String, Sendable, CaseIterable {
    /// This kind of host as Trident's CPU engine uses it: one device = one core running one
    /// rank with one thread (`--threads 1`); ranks talk through the TCP/shared-memory backend.
    ///
    /// The defaults were measured on the development host (AMD EPYC, AVX2+FMA, 2 cores,
    /// shared with other jobs: load average 3-9) with SmolLM2-135M Q4_1, prompt 128, 128
    /// decode steps:
    /// - memory bandwidth 3.5 GB/s = 105.5 MB per decode step (weights 96.6 MB + f32 KV
    ///   cache) x 32.9 tokens/s from `trident bench model --tp 1 --threads 1 --json`
    ///   (an *effective* rate: it includes Q4_1 dequantization, not the DRAM peak);
    /// - compute 37 GFLOP/s = 27.8 GFLOP per 128-token prefill / 0.75 s (same run);
    /// - link bandwidth 1.35 GB/s: alpha-beta fit of `trident bench allreduce --backend tcp
    ///   --nproc 2 --sizes 2304,4096,196608 --json` (whose back-to-back latency is 1-14 us);
    /// - link latency 230 us: what a 2304-byte all-reduce cost between two ranks that
    ///   compute ~220 us between collectives (`trident plan --calibrate`'s probe) at load
    ///   average 3; on a busy host a rank mostly waits for its peer to be scheduled.
    /// `trident plan --calibrate` re-measures all of them on the current machine.
    case cpuLocal = "cpu-local"
    /// NVIDIA A100-SXM4-80GB: 312 TFLOP/s bf16, 2039 GB/s HBM, 300 GB/s NVLink per
    /// direction, 8 per node, 25 GB/s (200 Gb/s) InfiniBand between nodes.
    case a100_80gb = "a100-80gb"

    public var device: DeviceDescription {
        switch self {
        case .cpuLocal:
            let link = Link(bandwidth: 1.35e9, latency: 230e-6)
            return DeviceDescription(memoryBytes: nil, flopsPerSecond: 37e9, memoryBandwidth: 3.5e9,
                                     intraNode: link, interNode: link, devicesPerNode: nil, singleNode: true,
                                     kvCacheFormat: .f32, activationFormat: .f32, overlapsComputeAndMemory: false)
        case .a100_80gb:
            return DeviceDescription(memoryBytes: 80e9, flopsPerSecond: 312e12, memoryBandwidth: 2.039e12,
                                     intraNode: Link(bandwidth: 300e9, latency: 5e-6),
                                     interNode: Link(bandwidth: 25e9, latency: 10e-6), devicesPerNode: 8,
                                     singleNode: false, kvCacheFormat: .f16, activationFormat: .f16)
        }
    }
}
