/// How much of the training state the data-parallel replicas shard among themselves
/// (DeepSpeed's ZeRO stages; `--zero N`).
public enum ZeroStage: Int, Sendable, Codable, CaseIterable {
    /// Every replica holds every AdamW moment and updates every parameter (plain data parallelism).
    case off = 0
    /// ZeRO-1: each replica of a data-parallel group of `D` holds the moments of about `1/D` of
    /// the parameters (`ZeroPartition`); gradients are reduce-scattered instead of all-reduced,
    /// each replica updates its slice, and the parameters are all-gathered after the step.
    case optimizerStates = 1
}

extension AdamWOptimizer {
    /// Bytes of AdamW moments this optimizer holds (`m` and `v`, f32).
    public var stateBytes: Int {
        states.reduce(0) { $0 + ($1.firstMoment.count + $1.secondMoment.count) * MemoryLayout<Float>.stride }
    }
}
