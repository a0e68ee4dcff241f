import Foundation
import TridentKernels

/// Hyper-parameters of AdamW (the learning rate comes per step from a `LearningRateSchedule`).
public struct AdamWConfiguration: Sendable, Equatable, Codable {
    public var beta1: Float
    public var beta2: Float
    public var eps: Float
    /// Decoupled weight decay, applied only to buffers the caller marks as decayed.
    public var weightDecay: Float

    public init(beta1: Float = 0.9, beta2: Float = 0.95, eps: Float = 1e-8, weightDecay: Float = 0) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
    }

    /// Checks the ranges PyTorch checks (`0 ≤ β < 1`, `eps ≥ 0`, `weight_decay ≥ 0`).
    public func validate() throws {
        for (name, beta) in [("--beta1", beta1), ("--beta2", beta2)] where !(beta >= 0 && beta < 1) {
            throw TrainingError.invalidValue(name: name, expected: "in [0, 1)", found: "\(beta)")
        }
        guard eps >= 0 && eps.isFinite else {
            throw TrainingError.invalidValue(name: "--eps", expected: "a finite number >= 0", found: "\(eps)")
        }
        guard weightDecay >= 0 && weightDecay.isFinite else {
            throw TrainingError.invalidValue(name: "--weight-decay", expected: "a finite number >= 0", found: "\(weightDecay)")
        }
    }
}

/// AdamW moments of one parameter buffer: `m` and `v` `[count]` f32, and the step count.
public struct AdamWState: Sendable, Equatable {
    public var firstMoment: [Float]
    public var secondMoment: [Float]
    /// Optimizer steps taken (0 before the first).
    public var step: Int

    public init(count: Int) {
        firstMoment = [Float](repeating: 0, count: count)
        secondMoment = [Float](repeating: 0, count: count)
        step = 0
    }
}

/// One AdamW update with `torch.optim.AdamW`'s rule (`foreach`/single-tensor, not `amsgrad`,
/// not `maximize`), elementwise in f32, with `t` the step after increment:
/// ```
/// p  = p · (1 − lr · weight_decay)             (decoupled decay; only if decayed)
/// m  = m + (1 − β1) · (g − m)                 (= β1·m + (1−β1)·g, as `lerp_`)
/// v  = β2 · v + (1 − β2) · g²
/// p  = p − (lr / (1 − β1ᵗ)) · m / (sqrt(v) / sqrt(1 − β2ᵗ) + eps)
/// ```
/// (the last line is `p − lr · m̂ / (sqrt(v̂) + eps)`, written in PyTorch's operation order).
public enum AdamW {
    /// Updates `parameter` `[count]` in place from `gradient` `[count]` and `state`.
    /// `decay: false` skips the weight decay (PyTorch parameter groups with `weight_decay=0`).
    public static func step(parameter: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
                            state: inout AdamWState, count: Int, learningRate: Float,
                            configuration: AdamWConfiguration, decay: Bool = true, pool: ThreadPool) {
        precondition(state.firstMoment.count == count && state.secondMoment.count == count,
                     "AdamW state holds \(state.firstMoment.count) values, parameter \(count)")
        state.step += 1
        let t = Double(state.step)
        let c = configuration
        let stepSize = Float(Double(learningRate) / (1 - pow(Double(c.beta1), t)))
        let correction2Root = Float((1 - pow(Double(c.beta2), t)).squareRoot())
        let decayFactor = decay ? Float(1 - Double(learningRate) * Double(c.weightDecay)) : 1
        let oneMinusBeta1 = Float(1 - Double(c.beta1)), oneMinusBeta2 = Float(1 - Double(c.beta2))
        state.firstMoment.withUnsafeMutableBufferPointer { mBuffer in
            state.secondMoment.withUnsafeMutableBufferPointer { vBuffer in
                let m = mBuffer.baseAddress!, v = vBuffer.baseAddress!
                pool.parallelChunks(count, granularity: 1024) { range in
                    for i in range {
                        let g = gradient[i]
                        let p = parameter[i] * decayFactor
                        m[i] += oneMinusBeta1 * (g - m[i])            // exp_avg.lerp_(grad, 1 - β1)
                        v[i] = c.beta2 * v[i] + oneMinusBeta2 * g * g
                        parameter[i] = p - stepSize * (m[i] / (v[i].squareRoot() / correction2Root + c.eps))
                    }
                }
            }
        }
    }
}
