import Foundation

/// The learning rate of each optimizer step `s` (counted from 1).
///
/// - `constant`: `lr` at every step.
/// - `cosine`: linear warm-up `lr · s / W` for `s ≤ W` (so step `W` reaches `lr`; `W = 0`
///   means none), then cosine decay over the remaining `S − W` steps:
///   `minLR + (lr − minLR) · (1 + cos(π · (s − W) / (S − W))) / 2`, reaching `minLR` at step `S`.
///   Steps beyond `S` stay at `minLR`.
public struct LearningRateSchedule: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Equatable, Codable, CaseIterable {
        case constant, cosine
    }

    public var kind: Kind
    public var learningRate: Double
    public var minLearningRate: Double
    public var warmupSteps: Int
    public var totalSteps: Int

    /// - Throws: `TrainingError.invalidValue` for a negative rate, `minLR > lr`, or a warm-up
    ///   outside `0 ... totalSteps`.
    public init(kind: Kind, learningRate: Double, minLearningRate: Double = 0, warmupSteps: Int = 0,
                totalSteps: Int) throws {
        guard learningRate >= 0 && learningRate.isFinite else {
            throw TrainingError.invalidValue(name: "--lr", expected: "a finite number >= 0", found: "\(learningRate)")
        }
        guard minLearningRate >= 0 && minLearningRate <= learningRate else {
            throw TrainingError.invalidValue(name: "--min-lr", expected: "in 0 ... \(learningRate) (--lr)",
                                             found: "\(minLearningRate)")
        }
        guard totalSteps >= 1 else {
            throw TrainingError.invalidValue(name: "--steps", expected: ">= 1", found: "\(totalSteps)")
        }
        guard warmupSteps >= 0 && warmupSteps <= totalSteps else {
            throw TrainingError.invalidValue(name: "--warmup", expected: "in 0 ... \(totalSteps) (--steps)",
                                             found: "\(warmupSteps)")
        }
        self.kind = kind
        self.learningRate = learningRate
        self.minLearningRate = minLearningRate
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    /// The learning rate of step `step` (≥ 1).
    public func rate(atStep step: Int) -> Double {
        precondition(step >= 1, "optimizer steps count from 1, got \(step)")
        switch kind {
        case .constant:
            return learningRate
        case .cosine:
            if step <= warmupSteps { return learningRate * Double(step) / Double(warmupSteps) }
            let decaySteps = totalSteps - warmupSteps
            if decaySteps == 0 || step >= totalSteps { return minLearningRate }
            let progress = Double(step - warmupSteps) / Double(decaySteps)
            return minLearningRate + (learningRate - minLearningRate) * (1 + cos(Double.pi * progress)) / 2
        }
    }
}
