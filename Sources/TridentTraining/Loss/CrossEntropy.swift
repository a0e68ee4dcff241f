import Foundation
import TridentKernels

/// The loss of one call: `loss = lossSum / denominator`.
public struct CrossEntropyResult: Sendable, Equatable {
    /// Mean loss over the denominator's target tokens (what `dLogits` is the gradient of).
    public var loss: Double
    /// Σ over this call's non-ignored tokens of `−log softmax(logits)[target]`.
    public var lossSum: Double
    /// Non-ignored targets in this call.
    public var targetCount: Int
}

/// Softmax cross-entropy over logits `[tokens, vocabulary]` with integer targets, as
/// `torch.nn.functional.cross_entropy(reduction="mean", ignore_index=-100)`.
///
/// The denominator defaults to this call's target count; pass the step's total count of
/// target tokens (all micro-batches and replicas) so that gradients summed over a step are
/// the gradient of the step's mean loss.
public enum CrossEntropy {
    /// PyTorch's default `ignore_index`.
    public static let defaultIgnoreIndex: Int32 = -100

    /// - Parameters:
    ///   - logits: `[tokens, vocabulary]` f32.
    ///   - targets: `[tokens]` ids in `0 ..< vocabulary`, or `ignoreIndex` (no loss, zero gradient).
    ///   - logitGradient: `[tokens, vocabulary]`, overwritten with `(softmax − onehot) / denominator`;
    ///     may be the same buffer as `logits`.
    /// - Throws: `TrainingError.targetOutOfRange` for a target outside the vocabulary.
    public static func lossAndGradient(logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>,
                                       logitGradient: UnsafeMutablePointer<Float>, tokens: Int, vocabulary: Int,
                                       ignoreIndex: Int32 = defaultIgnoreIndex, denominator: Int? = nil,
                                       pool: ThreadPool) throws -> CrossEntropyResult {
        try VocabParallelCrossEntropy.run(logits: logits, targets: targets, logitGradient: logitGradient,
                                          tokens: tokens, slice: 0..<vocabulary, vocabulary: vocabulary,
                                          group: nil, ignoreIndex: ignoreIndex, denominator: denominator, pool: pool)
    }

    /// Checks every target against `0 ..< vocabulary` (or the ignore index); returns the count of real targets.
    static func validate(_ targets: UnsafePointer<Int32>, tokens: Int, vocabulary: Int, ignoreIndex: Int32) throws -> Int {
        var count = 0
        for t in 0..<tokens where targets[t] != ignoreIndex {
            guard targets[t] >= 0 && Int(targets[t]) < vocabulary else {
                throw TrainingError.targetOutOfRange(token: t, target: Int(targets[t]), vocabulary: vocabulary)
            }
            count += 1
        }
        return count
    }
}
