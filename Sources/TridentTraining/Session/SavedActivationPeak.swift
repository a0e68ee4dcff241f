/// The most activation memory one rank kept for backward passes at once during a step: a
/// pipeline stage holds several micro-batches (`PipelineStepStatistics`), a whole model one
/// at a time (each micro-batch's backward runs before the next forward).
public struct SavedActivationPeak: Sendable, Equatable {
    /// Micro-batches whose saved activations were held at once.
    public var microBatches = 0
    /// Bytes of those saved activations (f32 buffers, each counted once).
    public var bytes = 0

    public init(microBatches: Int = 0, bytes: Int = 0) {
        self.microBatches = microBatches
        self.bytes = bytes
    }
}
