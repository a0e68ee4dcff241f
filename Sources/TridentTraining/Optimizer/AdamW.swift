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
        let constants = AdamWConstants(decayFactor: decayFactor, oneMinusBeta1: oneMinusBeta1, beta2: c.beta2,
                                       oneMinusBeta2: oneMinusBeta2, stepSize: stepSize,
                                       correction2Root: correction2Root, eps: c.eps)
        state.firstMoment.withUnsafeMutableBufferPointer { mBuffer in
            state.secondMoment.withUnsafeMutableBufferPointer { vBuffer in
                let m = mBuffer.baseAddress!, v = vBuffer.baseAddress!
                pool.parallelChunks(count, granularity: 1024) { range in
                    constants.update(range, parameter: parameter, gradient: gradient, m: m, v: v)
                }
            }
        }
    }
}

/// The per-step scalars of one AdamW update, and the elementwise update itself: 16 lanes at a
/// time with exactly the scalar tail's operations in the same order (no fused multiply-adds),
/// so every element gets the same bits either way.
struct AdamWConstants {
    let decayFactor: Float, oneMinusBeta1: Float, beta2: Float, oneMinusBeta2: Float
    let stepSize: Float, correction2Root: Float, eps: Float

    typealias V = SIMD16<Float>

    @inline(__always)
    func update(_ range: Range<Int>, parameter: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
                m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>) {
        var i = range.lowerBound
        let decay = V(repeating: decayFactor), a1 = V(repeating: oneMinusBeta1), b2 = V(repeating: beta2)
        let a2 = V(repeating: oneMinusBeta2), size = V(repeating: stepSize), root = V(repeating: correction2Root)
        let epsilon = V(repeating: eps)
        while i + 16 <= range.upperBound {
            let g = Self.load(gradient + i)
            let p = Self.load(parameter + i) * decay
            var mi = Self.load(m + i), vi = Self.load(v + i)
            mi = mi + a1 * (g - mi)
            vi = b2 * vi + a2 * g * g
            Self.store(mi, m + i)
            Self.store(vi, v + i)
            Self.store(p - size * (mi / (Self.squareRoot(vi) / root + epsilon)), parameter + i)
            i += 16
        }
        while i < range.upperBound {
            let g = gradient[i]
            let p = parameter[i] * decayFactor
            m[i] += oneMinusBeta1 * (g - m[i])            // exp_avg.lerp_(grad, 1 - β1)
            v[i] = beta2 * v[i] + oneMinusBeta2 * g * g
            parameter[i] = p - stepSize * (m[i] / (v[i].squareRoot() / correction2Root + eps))
            i += 1
        }
    }

    /// Lane-wise square root of values ≥ 0 (or NaN). On Linux `squareRoot()` calls `sqrtf` for
    /// negative inputs (to set errno), which keeps LLVM from vectorising it (`SIMD.squareRoot()`
    /// too: 16 guarded scalar roots); with negatives mapped to 0 first the guard folds away and
    /// the loop becomes `vsqrtps`. Same result for every `x ≥ 0`, -0 and NaN.
    @inline(__always)
    static func squareRoot(_ x: V) -> V {
        var r = x
        for i in 0..<16 {
            let nonNegative = x[i] < 0 ? 0 : x[i]
            r[i] = nonNegative.squareRoot()
        }
        return r
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    @inline(__always)
    static func load(_ p: UnsafeMutablePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    @inline(__always)
    static func store(_ x: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: x, as: V.self) }
}
