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
}

/// Named device descriptions.
public enum DevicePreset: String, Sendable, CaseIterable {
    /// This kind of host as Trident's CPU engine uses it: one device = one core running one
    /// rank with one thread (`--threads 1`); ranks talk through the TCP/shared-memory backend.
    ///
    /// The defaults were measured on the development host (AMD EPYC, AVX2+FMA, 2 cores,
    /// shared with other jobs) with SmolLM2-135M Q4_1, prompt 128, 128 decode steps:
    /// - memory bandwidth 3.5 GB/s = 105.4 MB per decode step (weights 96.5 MB + f32 KV
    ///   cache) x 32.9 tokens/s from `trident bench model --tp 1 --threads 1 --json`
    ///   (an *effective* rate: it includes Q4_1 dequantization, not the DRAM peak);
    /// - compute 31 GFLOP/s = 27.2 GFLOP per 128-token prefill x 146 tokens/s / 128;
    /// - link latency 2.1 us and bandwidth 1.7 GB/s: alpha-beta fit of
    ///   `trident bench allreduce --backend tcp --nproc 2 --sizes 2304,4096,196608 --json`
    ///   (3.4 us, 4.4 us, 119 us).
    /// `trident plan --calibrate` re-measures all of them on the current machine.
    case cpuLocal = "cpu-local"
    /// NVIDIA A100-SXM4-80GB: 312 TFLOP/s bf16, 2039 GB/s HBM, 300 GB/s NVLink per
    /// direction, 8 per node, 25 GB/s (200 Gb/s) InfiniBand between nodes.
    case a100_80gb = "a100-80gb"

    public var device: DeviceDescription {
        switch self {
        case .cpuLocal:
            let link = Link(bandwidth: 1.7e9, latency: 2.1e-6)
            return DeviceDescription(memoryBytes: nil, flopsPerSecond: 31e9, memoryBandwidth: 3.5e9,
                                     intraNode: link, interNode: link, devicesPerNode: nil, singleNode: true,
                                     kvCacheFormat: .f32, activationFormat: .f32)
        case .a100_80gb:
            return DeviceDescription(memoryBytes: 80e9, flopsPerSecond: 312e12, memoryBandwidth: 2.039e12,
                                     intraNode: Link(bandwidth: 300e9, latency: 5e-6),
                                     interNode: Link(bandwidth: 25e9, latency: 10e-6), devicesPerNode: 8,
                                     singleNode: false, kvCacheFormat: .f16, activationFormat: .f16)
        }
    }
}
