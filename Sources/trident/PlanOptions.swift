import ArgumentParser
import Foundation
import TridentPlanner

/// The machines being planned for. Every option left out comes from the device preset
/// (or, with `--calibrate`, from the rates just measured).
struct PlanClusterOptions: ParsableArguments {
    enum Preset: String, ExpressibleByArgument, CaseIterable {
        case cpuLocal = "cpu-local", a100_80gb = "a100-80gb"
        var preset: DevicePreset { self == .cpuLocal ? .cpuLocal : .a100_80gb }
    }

    @Option(help: "Device description to start from: a100-80gb (default) or cpu-local (this host: one core = one device; see the discussion).")
    var devicePreset: Preset?
    @Option(parsing: .unconditional, help: "Number of devices (world size; default 1, cpu-local: the number of cores).") var devices: Int?
    @Option(parsing: .unconditional, help: "Devices per node (default: the preset's; a100-80gb: min(devices, 8)).") var devicesPerNode: Int?
    @Option(parsing: .unconditional, help: "Memory per device, e.g. 80GB or 80GiB (cpu-local: physical memory / cores).",
            transform: { try Units.parseBytes($0) })
    var deviceMemory: Double?
    @Option(parsing: .unconditional, help: "Compute rate per device for the compute dtype, TFLOP/s (a100-80gb: 312).") var deviceTflops: Double?
    @Option(parsing: .unconditional, help: "Memory bandwidth per device, e.g. 2039GB/s (a100-80gb).", transform: { try Units.parseBytesPerSecond($0) })
    var deviceMemoryBandwidth: Double?
    @Option(parsing: .unconditional, help: "Link bandwidth between devices of a node, e.g. 300GB/s.", transform: { try Units.parseBytesPerSecond($0) })
    var intraNodeBandwidth: Double?
    @Option(parsing: .unconditional, help: "Link bandwidth between nodes, e.g. 200Gb/s (a100-80gb: 25GB/s).", transform: { try Units.parseBytesPerSecond($0) })
    var interNodeBandwidth: Double?
    @Option(parsing: .unconditional, help: "Latency of an intra-node message, e.g. 5us.", transform: { try Units.parseSeconds($0) })
    var intraNodeLatency: Double?
    @Option(parsing: .unconditional, help: "Latency of an inter-node message, e.g. 10us.", transform: { try Units.parseSeconds($0) })
    var interNodeLatency: Double?

    func validate() throws {
        if let devices { try OptionCheck.integer(devices, in: 1...Self.maxDevices, "--devices") }
        if let devicesPerNode { try OptionCheck.integer(devicesPerNode, in: 1...Self.maxDevices, "--devices-per-node") }
        if let deviceTflops {
            try OptionCheck.real(deviceTflops, "--device-tflops", "in (0, 1e6]") { $0 > 0 && $0 <= 1e6 }
        }
        if let deviceMemory { try OptionCheck.real(deviceMemory, "--device-memory", "positive") { $0 > 0 } }
        if let deviceMemoryBandwidth {
            try OptionCheck.real(deviceMemoryBandwidth, "--device-memory-bandwidth", "positive") { $0 > 0 }
        }
        for (value, option) in [(intraNodeLatency, "--intra-node-latency"), (interNodeLatency, "--inter-node-latency")] {
            if let value { try OptionCheck.real(value, option, "a finite duration >= 0") { $0 >= 0 } }
        }
    }

    /// Most devices a plan may describe (the planner enumerates their factorizations).
    static let maxDevices = 1 << 20

    /// The preset the options start from.
    var preset: DevicePreset { devicePreset?.preset ?? .a100_80gb }

    /// Explicit options over `calibration` (when given) over the preset.
    func cluster(calibration: HostCalibration?) -> Cluster {
        let device = preset.device
        let count = devices ?? (preset == .cpuLocal ? HostFacts.cores : 1)
        let perNode = devicesPerNode ?? device.devicesPerNode.map { min(count, $0) } ?? count
        let intra = Link(bandwidth: intraNodeBandwidth ?? calibration?.link.bandwidth ?? device.intraNode.bandwidth,
                         latency: intraNodeLatency ?? calibration?.link.latency ?? device.intraNode.latency)
        let inter = Link(bandwidth: interNodeBandwidth ?? calibration?.link.bandwidth ?? device.interNode.bandwidth,
                         latency: interNodeLatency ?? calibration?.link.latency ?? device.interNode.latency)
        return Cluster(deviceCount: count, devicesPerNode: perNode,
                       memoryBytes: deviceMemory ?? device.memoryBytes ?? HostFacts.memoryPerCore,
                       flopsPerSecond: deviceTflops.map { $0 * 1e12 } ?? calibration?.flopsPerSecond ?? device.flopsPerSecond,
                       memoryBandwidth: deviceMemoryBandwidth ?? calibration?.memoryBandwidth ?? device.memoryBandwidth,
                       intraNode: intra, interNode: inter,
                       overlapsComputeAndMemory: calibration == nil ? device.overlapsComputeAndMemory : false)
    }
}

/// Serving workload options.
struct PlanInferenceOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Concurrent sequences across the cluster.") var batch: Int = 1
    @Option(parsing: .unconditional, help: "Prompt tokens per sequence.") var promptLength: Int = 512
    @Option(parsing: .unconditional, help: "Generated tokens per sequence.") var outputLength: Int = 128
    @Option(help: "Weight format: f32, f16, bf16, q8_0, q4_0, q4_1 (default: a GGUF's own, else f16).")
    var weightDtype: String?
    @Option(help: "KV-cache format: f32, f16, bf16, q8_0 (default: the preset's; cpu-local f32, else f16).")
    var kvDtype: String?
    @Option(help: "Activation format for messages and buffers: f32, f16, bf16 (default: as --kv-dtype's default).")
    var activationDtype: String?

    func validate() throws {
        try OptionCheck.integer(batch, in: 1...(1 << 20), "--batch")
        try OptionCheck.integer(promptLength, in: 1...(1 << 24), "--prompt-length")
        try OptionCheck.integer(outputLength, in: 1...(1 << 24), "--output-length")
    }

    /// The workload; formats left out come from the model file, then from `device`.
    func workload(model: PlannerModel, device: DeviceDescription) throws -> InferenceWorkload {
        let activation = try activationDtype.map { try Self.format($0, option: "--activation-dtype") }
            ?? device.activationFormat
        guard activation.blockSize == 1 else {
            throw ValidationError("--activation-dtype must be f32, f16 or bf16, got \(activationDtype ?? "")")
        }
        return InferenceWorkload(
            batchSize: batch, promptLength: promptLength, outputLength: outputLength,
            weightFormat: try weightDtype.map { try Self.format($0, option: "--weight-dtype") } ?? model.fileWeightFormat ?? .f16,
            kvCacheFormat: try kvDtype.map { try Self.format($0, option: "--kv-dtype") } ?? device.kvCacheFormat,
            activationFormat: activation)
    }

    static func format(_ text: String, option: String) throws -> NumericFormat {
        guard let format = NumericFormat(rawValue: text.lowercased()) else {
            let known = NumericFormat.allCases.map(\.rawValue).joined(separator: ", ")
            throw ValidationError("\(option): unknown format '\(text)', expected one of \(known)")
        }
        return format
    }
}

/// Training workload options, spelled as `trident train` spells them (`--seq-len`,
/// `--zero 1`, `--recompute`); the planner's older `--sequence-length` and `--zero1` stay as aliases.
struct PlanTrainingOptions: ParsableArguments {
    enum OptimizerChoice: String, ExpressibleByArgument, CaseIterable { case adam, sgd }

    @Option(parsing: .unconditional, help: "Sequences per optimizer step across all replicas.") var globalBatch: Int = 64
    @Option(parsing: .unconditional, help: "Sequences per micro-batch.") var microBatch: Int = 1
    @Option(name: [.customLong("seq-len"), .customLong("sequence-length")], parsing: .unconditional,
            help: "Tokens per training sequence (alias: --sequence-length).")
    var sequenceLength: Int = 2048
    @Option(help: "Optimizer.") var optimizer: OptimizerChoice = .adam
    @Flag(inversion: .prefixedNo, help: "bf16 weights/gradients with an fp32 master copy.") var mixedPrecision = true
    @Option(parsing: .unconditional, help: "ZeRO stage: 0 (none) or 1 (optimizer states sharded over data-parallel replicas).")
    var zero: Int?
    @Flag(help: ArgumentHelp("Alias of --zero 1.", visibility: .hidden)) var zero1 = false
    @Flag(help: "Recompute activations in backward, keeping only each block's input (as `trident train --recompute`).")
    var recompute = false

    func validate() throws {
        try OptionCheck.integer(globalBatch, in: 1...(1 << 24), "--global-batch")
        try OptionCheck.integer(microBatch, in: 1...globalBatch, "--micro-batch")
        try OptionCheck.integer(sequenceLength, in: 1...(1 << 24), "--seq-len")
        if let zero { try OptionCheck.integer(zero, in: 0...1, "--zero") }
        if zero1 && zero == 0 { throw ValidationError("--zero1 is --zero 1; it contradicts --zero 0") }
    }

    /// Whether optimizer states are sharded (`--zero 1` or `--zero1`).
    var shardsOptimizerStates: Bool { zero1 || zero == 1 }

    func workload() -> TrainingWorkload {
        TrainingWorkload(globalBatchSize: globalBatch, microBatchSize: microBatch, sequenceLength: sequenceLength,
                         optimizer: optimizer == .adam ? .adam : .sgd, mixedPrecision: mixedPrecision,
                         shardOptimizerStates: shardsOptimizerStates, recomputeActivations: recompute)
    }
}
