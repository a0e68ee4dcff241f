@testable import TridentPlanner

/// Clusters and workloads shared by the planner tests.
enum Fixture {
    /// `devices` A100-80GB-like devices: 312 TFLOP/s, 2039 GB/s, 300 GB/s NVLink, 25 GB/s IB.
    static func a100(devices: Int, perNode: Int = 8, memory: Double = 80e9,
                     interNodeBandwidth: Double = 25e9) -> Cluster {
        Cluster(deviceCount: devices, devicesPerNode: perNode, memoryBytes: memory, flopsPerSecond: 312e12,
                memoryBandwidth: 2.039e12, intraNode: Link(bandwidth: 300e9, latency: 5e-6),
                interNode: Link(bandwidth: interNodeBandwidth, latency: 10e-6))
    }

    static let llama7b = ModelPreset.llama7b.model
    static let llama70b = ModelPreset.llama70b.model
    static let smol = ModelPreset.smollm2_135m.model

    static func inference(batch: Int = 1, prompt: Int = 512, output: Int = 128,
                          weights: NumericFormat = .f16) -> Workload {
        .inference(InferenceWorkload(batchSize: batch, promptLength: prompt, outputLength: output, weightFormat: weights))
    }
}
