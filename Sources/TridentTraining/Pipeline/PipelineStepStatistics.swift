/// What one pipeline stage did during the forward/backward part of the last step.
public struct PipelineStepStatistics: Sendable, Equatable {
    /// Wall-clock seconds from the first action to the last.
    public var seconds: Double = 0
    /// Seconds spent in this stage's forwards and backwards.
    public var computeSeconds: Double = 0
    /// Seconds spent sending and receiving frames (waiting for a neighbour included).
    public var communicationSeconds: Double = 0
    /// Most micro-batches whose saved activations this stage held at once.
    public var peakSavedMicroBatches = 0
    /// Most bytes of saved activations held at once.
    public var peakSavedBytes = 0

    public init() {}

    /// The fraction of the pipeline phase this stage did not compute: the bubble plus the
    /// communication (`1 - compute / seconds`).
    public var idleFraction: Double { seconds > 0 ? max(0, 1 - computeSeconds / seconds) : 0 }
}
