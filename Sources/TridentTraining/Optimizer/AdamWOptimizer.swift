import TridentKernels

/// AdamW over a model's parameter buffers: one `AdamWState` per buffer, decay per buffer.
///
/// Which buffers are decayed: by Megatron's and nanoGPT's convention, matrices (linear
/// weights, embeddings) are and one-dimensional buffers (biases, norm weights) are not;
/// `decaysByDefault(dimensions:)` states the rule so `--help` and the layers agree.
public final class AdamWOptimizer {
    public let configuration: AdamWConfiguration
    /// Per registered buffer, in registration order.
    public private(set) var states: [AdamWState] = []
    public private(set) var decays: [Bool] = []

    /// - Throws: `TrainingError.invalidValue` for an out-of-range hyper-parameter.
    public init(configuration: AdamWConfiguration) throws {
        try configuration.validate()
        self.configuration = configuration
    }

    /// Weight decay applies to tensors of 2 or more dimensions (weights, embeddings), not to
    /// biases and norm weights.
    public static func decaysByDefault(dimensions: Int) -> Bool { dimensions >= 2 }

    /// Registers a buffer of `count` elements; returns its index for `step`.
    @discardableResult
    public func register(count: Int, decay: Bool) -> Int {
        states.append(AdamWState(count: count))
        decays.append(decay)
        return states.count - 1
    }

    /// Optimizer steps taken so far (equal for every buffer).
    public var stepCount: Int { states.first?.step ?? 0 }

    /// Updates every registered buffer: `parameters[i]` from `gradients[i]` (same counts as
    /// registered), at `learningRate` (from the schedule for step `stepCount + 1`).
    public func step(parameters: [UnsafeMutableBufferPointer<Float>], gradients: [UnsafeBufferPointer<Float>],
                     learningRate: Float, pool: ThreadPool) {
        precondition(parameters.count == states.count && gradients.count == states.count,
                     "AdamW has \(states.count) buffers, got \(parameters.count) parameters and \(gradients.count) gradients")
        for i in states.indices {
            precondition(parameters[i].count == states[i].firstMoment.count && gradients[i].count == parameters[i].count,
                         "buffer \(i): \(parameters[i].count) parameters, \(gradients[i].count) gradients, registered \(states[i].firstMoment.count)")
            guard let p = parameters[i].baseAddress, let g = gradients[i].baseAddress else { states[i].step += 1; continue }
            AdamW.step(parameter: p, gradient: g, state: &states[i], count: parameters[i].count, learningRate: learningRate,
                       configuration: configuration, decay: decays[i], pool: pool)
        }
    }

    /// Replaces the moments and step counts (resuming a run); shapes must match the registration.
    public func restore(_ saved: [AdamWState]) throws {
        guard saved.count == states.count,
              zip(saved, states).allSatisfy({ $0.firstMoment.count == $1.firstMoment.count && $0.secondMoment.count == $1.secondMoment.count }) else {
            throw TrainingError.invalidValue(name: "optimizer state", expected: "\(states.count) buffers of the registered sizes",
                                             found: "\(saved.count) buffers of sizes \(saved.map(\.firstMoment.count))")
        }
        states = saved
    }
}
