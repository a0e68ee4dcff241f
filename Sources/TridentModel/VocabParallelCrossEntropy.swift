import Foundation
import TridentCollectives
import TridentKernels

/// Cross-entropy when the vocabulary is split over a tensor group (Megatron's
/// `vocab_parallel_cross_entropy`): rank `r` holds logits `[tokens, V_r]` of the global
/// vocabulary slice `slice`. Per token, three reductions cross the group (the maximum, then
/// Σ exp and the target's logit together, `[2·tokens]` floats); full logits are never gathered.
/// Every rank returns the same loss and its own slice of the logit gradient.
public enum VocabParallelCrossEntropy {
    /// Every rank of `group` must call this, in the same order, with the same `targets`,
    /// `tokens`, `vocabulary`, `ignoreIndex` and `denominator`, and slices that tile `0 ..< vocabulary`.
    ///
    /// - Parameters:
    ///   - logits: `[tokens, slice.count]` f32, this rank's vocabulary slice.
    ///   - targets: `[tokens]` global ids in `0 ..< vocabulary`, or `ignoreIndex`.
    ///   - logitGradient: `[tokens, slice.count]`, overwritten with `(softmax − onehot) / denominator`
    ///     restricted to the slice; may be the same buffer as `logits`.
    /// - Throws: `CrossEntropyError.targetOutOfRange` (on every rank alike), or the group's `CollectiveError`.
    public static func lossAndGradient(logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>,
                                       logitGradient: UnsafeMutablePointer<Float>, tokens: Int,
                                       slice: Range<Int>, vocabulary: Int, group: any Communicator,
                                       ignoreIndex: Int32 = CrossEntropy.defaultIgnoreIndex, denominator: Int? = nil,
                                       pool: ThreadPool) throws -> CrossEntropyResult {
        let shared = group.size > 1
        return try CrossEntropy.sliced(
            logits: logits, targets: targets, logitGradient: logitGradient, tokens: tokens, slice: slice,
            vocabulary: vocabulary, ignoreIndex: ignoreIndex, denominator: denominator, pool: pool,
            reduceMaxima: { if shared { try group.allReduce(&$0, op: .max) } },
            reduceSums: { if shared { try group.allReduce(&$0, op: .sum) } })
    }
}
