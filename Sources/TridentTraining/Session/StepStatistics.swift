/// What one optimizer step did, the same on every rank (loss, norm, rate, tokens) plus this
/// rank's own timings.
public struct StepStatistics: Sendable, Equatable {
    /// The optimizer step, counted from 1 over the whole run (resumed runs included).
    public var step: Int
    /// Mean cross-entropy over every target token of the step (all micro-batches and replicas).
    public var loss: Double
    /// Global gradient norm before clipping.
    public var gradientNorm: Double
    /// The learning rate applied.
    public var learningRate: Double
    /// Target tokens of the step, over every replica (`G · L`).
    public var tokens: Int
    /// Wall-clock seconds of the step on this rank.
    public var seconds: Double
    /// Seconds this rank spent in tensor-group collectives.
    public var tensorCommunicationSeconds: Double
    /// Seconds of them run in the background while this rank computed (`--tp-comm-overlap`).
    public var hiddenTensorCommunicationSeconds: Double
    /// Seconds the data-parallel buckets' all-reduces ran, hidden behind the backward or not.
    public var dataCommunicationSeconds: Double
    /// Seconds this rank waited for the data-parallel buckets after its backward.
    public var exposedDataCommunicationSeconds: Double

    public init(step: Int, loss: Double, gradientNorm: Double, learningRate: Double, tokens: Int, seconds: Double,
                tensorCommunicationSeconds: Double = 0, dataCommunicationSeconds: Double = 0,
                exposedDataCommunicationSeconds: Double = 0, hiddenTensorCommunicationSeconds: Double = 0) {
        self.step = step
        self.loss = loss
        self.gradientNorm = gradientNorm
        self.learningRate = learningRate
        self.tokens = tokens
        self.seconds = seconds
        self.tensorCommunicationSeconds = tensorCommunicationSeconds
        self.hiddenTensorCommunicationSeconds = hiddenTensorCommunicationSeconds
        self.dataCommunicationSeconds = dataCommunicationSeconds
        self.exposedDataCommunicationSeconds = exposedDataCommunicationSeconds
    }

    /// Communication this rank waited for: the tensor-group collectives it did not hide plus the
    /// unhidden bucket wait.
    public var exposedCommunicationSeconds: Double {
        max(0, tensorCommunicationSeconds - hiddenTensorCommunicationSeconds) + exposedDataCommunicationSeconds
    }

    /// Target tokens per second of wall-clock time.
    public var tokensPerSecond: Double { seconds > 0 ? Double(tokens) / seconds : 0 }
}
