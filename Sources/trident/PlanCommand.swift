import ArgumentParser
import Foundation
import TridentPlanner

/// `trident plan`: recommends a TP/PP/DP split before anything is loaded.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Predict memory and speed of every TP x PP x DP split and recommend one.",
        discussion: """
            Sizes: GB = 1e9 bytes, GiB = 2^30 bytes; rates: 300GB/s (bytes), 25Gb/s (bits).
            Example (Llama 2 70B on one node of 8 x A100-80GB):
              trident plan --model llama-70b --devices 8 --device-memory 80GB \\
                --device-tflops 312 --intra-node-bandwidth 300GB/s
            Only some splits (TP8; PP4 x DP2; TP4 x PP2; TP2 x PP4; DP8):
              ... --configurations 8x1x1,1x4x2,4x2x1,2x4x1,1x1x8
            """)

    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case inference, training
    }

    @Option(help: "A preset (\(ModelPreset.allCases.map(\.rawValue).joined(separator: ", "))) or a .gguf/.safetensors path.")
    var model: String
    @OptionGroup(title: "Cluster") var cluster: PlanClusterOptions
    @Option(help: "What to plan for.") var mode: Mode = .inference
    @OptionGroup(title: "Inference workload") var inference: PlanInferenceOptions
    @OptionGroup(title: "Training workload") var training: PlanTrainingOptions
    @Option(help: "Evaluate only these configurations, TPxPPxDP separated by commas (e.g. 8x1x1,4x2x1).")
    var configurations: String?
    @Flag(help: "Print the plan as one JSON object.") var json = false
    @Flag(help: "Run the top configurations locally and print measured next to predicted (not available yet).")
    var measure = false
    @Option(help: "With --measure: how many of the top configurations to run.") var measureTop = 3

    func run() throws {
        if measure {
            // Hook: once the engine runs TP/PP, implement `MeasurementRunner` here and print
            // `plan.compare(with: runner, top: measureTop)`.
            throw ValidationError("--measure is not available yet: the engine cannot run TP/PP configurations.")
        }
        let plannerModel = try ModelSource.resolve(model)
        let workload: Workload = mode == .inference ? .inference(try inference.workload())
            : .training(training.workload())
        let machines = try cluster.cluster()
        let plan: Plan
        if let configurations {
            let candidates = try configurations.split(separator: ",").map { try ParallelConfiguration.parse(String($0)) }
            plan = try Planner.plan(model: plannerModel, cluster: machines, workload: workload, candidates: candidates)
        } else {
            plan = Planner.plan(model: plannerModel, cluster: machines, workload: workload)
        }
        print(json ? try PlanReport(plan).jsonString() : plan.renderText())
    }
}

/// The machines being planned for.
struct PlanClusterOptions: ParsableArguments {
    @Option(help: "Number of devices (world size).") var devices: Int = 1
    @Option(help: "Devices per node (default: min(devices, 8)).") var devicesPerNode: Int?
    @Option(help: "Memory per device, e.g. 80GB or 80GiB.", transform: { try Units.parseBytes($0) })
    var deviceMemory: Double = 80e9
    @Option(help: "Compute rate per device for the compute dtype, TFLOP/s.") var deviceTflops: Double = 312
    @Option(help: "Memory bandwidth per device, e.g. 2039GB/s (A100-80GB).",
            transform: { try Units.parseBytesPerSecond($0) })
    var deviceMemoryBandwidth: Double = 2.039e12
    @Option(help: "Link bandwidth between devices of a node, e.g. 300GB/s.",
            transform: { try Units.parseBytesPerSecond($0) })
    var intraNodeBandwidth: Double = 300e9
    @Option(help: "Link bandwidth between nodes, e.g. 200Gb/s.", transform: { try Units.parseBytesPerSecond($0) })
    var interNodeBandwidth: Double = 25e9
    @Option(help: "Latency of an intra-node message, e.g. 5us.", transform: { try Units.parseSeconds($0) })
    var intraNodeLatency: Double = 5e-6
    @Option(help: "Latency of an inter-node message, e.g. 10us.", transform: { try Units.parseSeconds($0) })
    var interNodeLatency: Double = 10e-6

    func validate() throws {
        guard devices >= 1 else { throw ValidationError("--devices must be at least 1, got \(devices)") }
        if let devicesPerNode, devicesPerNode < 1 {
            throw ValidationError("--devices-per-node must be at least 1, got \(devicesPerNode)")
        }
        guard deviceTflops > 0 else { throw ValidationError("--device-tflops must be positive, got \(deviceTflops)") }
        guard deviceMemory > 0 else { throw ValidationError("--device-memory must be positive") }
    }

    func cluster() throws -> Cluster {
        Cluster(deviceCount: devices, devicesPerNode: devicesPerNode ?? min(devices, 8), memoryBytes: deviceMemory,
                flopsPerSecond: deviceTflops * 1e12, memoryBandwidth: deviceMemoryBandwidth,
                intraNode: Link(bandwidth: intraNodeBandwidth, latency: intraNodeLatency),
                interNode: Link(bandwidth: interNodeBandwidth, latency: interNodeLatency))
    }
}

/// Serving workload options.
struct PlanInferenceOptions: ParsableArguments {
    @Option(help: "Concurrent sequences across the cluster.") var batch: Int = 1
    @Option(help: "Prompt tokens per sequence.") var promptLength: Int = 512
    @Option(help: "Generated tokens per sequence.") var outputLength: Int = 128
    @Option(help: "Weight format: f32, f16, bf16, q8_0, q4_0, q4_1.") var weightDtype: String = "f16"
    @Option(help: "KV-cache format: f32, f16, bf16, q8_0.") var kvDtype: String = "f16"
    @Option(help: "Activation format for messages and buffers: f32, f16, bf16.") var activationDtype: String = "f16"

    func validate() throws {
        guard batch >= 1, promptLength >= 1, outputLength >= 1 else {
            throw ValidationError("--batch, --prompt-length and --output-length must be at least 1")
        }
    }

    func workload() throws -> InferenceWorkload {
        let activation = try Self.format(activationDtype, option: "--activation-dtype")
        guard activation.blockSize == 1 else {
            throw ValidationError("--activation-dtype must be f32, f16 or bf16, got \(activationDtype)")
        }
        return InferenceWorkload(batchSize: batch, promptLength: promptLength, outputLength: outputLength,
                                 weightFormat: try Self.format(weightDtype, option: "--weight-dtype"),
                                 kvCacheFormat: try Self.format(kvDtype, option: "--kv-dtype"),
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

/// Training workload options.
struct PlanTrainingOptions: ParsableArguments {
    enum OptimizerChoice: String, ExpressibleByArgument, CaseIterable { case adam, sgd }

    @Option(help: "Sequences per optimizer step across all replicas.") var globalBatch: Int = 64
    @Option(help: "Sequences per micro-batch.") var microBatch: Int = 1
    @Option(help: "Tokens per training sequence.") var sequenceLength: Int = 2048
    @Option(help: "Optimizer.") var optimizer: OptimizerChoice = .adam
    @Flag(inversion: .prefixedNo, help: "bf16 weights/gradients with an fp32 master copy.") var mixedPrecision = true
    @Flag(help: "Shard optimizer states over data-parallel replicas (ZeRO-1).") var zero1 = false
    @Flag(help: "Recompute activations in backward instead of keeping them.") var recompute = false

    func validate() throws {
        guard globalBatch >= 1, microBatch >= 1, sequenceLength >= 1 else {
            throw ValidationError("--global-batch, --micro-batch and --sequence-length must be at least 1")
        }
    }

    func workload() -> TrainingWorkload {
        TrainingWorkload(globalBatchSize: globalBatch, microBatchSize: microBatch, sequenceLength: sequenceLength,
                         optimizer: optimizer == .adam ? .adam : .sgd, mixedPrecision: mixedPrecision,
                         shardOptimizerStates: zero1, recomputeActivations: recompute)
    }
}
