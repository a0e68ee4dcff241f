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
    /// - Throws: `TrainingError.targetOutOfRange` (on every rank alike), or the group's `CollectiveError`.
    public static func lossAndGradient(logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>,
                                       logitGradient: UnsafeMutablePointer<Float>, tokens: Int,
                                       slice: Range<Int>, vocabulary: Int, group: any Communicator,
                                       ignoreIndex: Int32 = CrossEntropy.defaultIgnoreIndex, denominator: Int? = nil,
                                       pool: ThreadPool) throws -> CrossEntropyResult {
        try run(logits: logits, targets: targets, logitGradient: logitGradient, tokens: tokens, slice: slice,
                vocabulary: vocabulary, group: group.size > 1 ? group : nil, ignoreIndex: ignoreIndex,
                denominator: denominator, pool: pool)
    }

    /// The shared implementation; `group == nil` is one rank holding the whole vocabulary slice.
    static func run(logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>,
                    logitGradient: UnsafeMutablePointer<Float>, tokens: Int, slice: Range<Int>, vocabulary: Int,
                    group: (any Communicator)?, ignoreIndex: Int32, denominator: Int?,
                    pool: ThreadPool) throws -> CrossEntropyResult {
        precondition(slice.lowerBound >= 0 && slice.upperBound <= vocabulary, "slice \(slice) outside 0..<\(vocabulary)")
        let count = try CrossEntropy.validate(targets, tokens: tokens, vocabulary: vocabulary, ignoreIndex: ignoreIndex)
        let width = slice.count
        var maxima = rowMaxima(logits, tokens: tokens, width: width, pool: pool)           // [tokens]
        if let group { try group.allReduce(&maxima, op: .max) }
        var sums = rowSums(logits, maxima: maxima, targets: targets, tokens: tokens, slice: slice,
                           ignoreIndex: ignoreIndex, pool: pool)                          // [Σ exp | target logit]
        if let group { try group.allReduce(&sums, op: .sum) }
        let denominatorValue = denominator ?? count
        let inverse = denominatorValue > 0 ? 1 / Float(denominatorValue) : 0
        var lossSum: Double = 0
        for t in 0..<tokens where targets[t] != ignoreIndex {
            lossSum += Double(logf(sums[t])) + Double(maxima[t]) - Double(sums[tokens + t])
        }
        maxima.withUnsafeBufferPointer { m in
            sums.withUnsafeBufferPointer { s in
                pool.parallelFor(tokens) { t in
                    writeGradient(row: logits + t * width, gradient: logitGradient + t * width, width: width,
                                  maximum: m[t], sum: s[t], target: targets[t], ignoreIndex: ignoreIndex,
                                  slice: slice, inverse: inverse)
                }
            }
        }
        let loss = denominatorValue > 0 ? lossSum / Double(denominatorValue) : 0
        return CrossEntropyResult(loss: loss, lossSum: lossSum, targetCount: count)
    }

    /// Local maximum of every row of `[tokens, width]`.
    private static func rowMaxima(_ logits: UnsafePointer<Float>, tokens: Int, width: Int, pool: ThreadPool) -> [Float] {
        var maxima = [Float](repeating: -.infinity, count: tokens)
        maxima.withUnsafeMutableBufferPointer { m in
            pool.parallelFor(tokens) { t in m[t] = maximumValue(logits + t * width, width) }
        }
        return maxima
    }

    /// `[2 · tokens]`: this slice's Σ exp(logit − max) per row, then each row's target logit
    /// when the target lies in the slice (else 0), ready for one sum all-reduce.
    private static func rowSums(_ logits: UnsafePointer<Float>, maxima: [Float], targets: UnsafePointer<Int32>, tokens: Int,
                                slice: Range<Int>, ignoreIndex: Int32, pool: ThreadPool) -> [Float] {
        let width = slice.count
        var sums = [Float](repeating: 0, count: 2 * tokens)
        maxima.withUnsafeBufferPointer { m in
            sums.withUnsafeMutableBufferPointer { s in
                pool.parallelFor(tokens) { t in
                    let row = logits + t * width
                    s[t] = sumOfExponentials(row, width, shift: m[t])
                    let target = Int(targets[t])
                    s[tokens + t] = targets[t] != ignoreIndex && slice.contains(target) ? row[target - slice.lowerBound] : 0
                }
            }
        }
        return sums
    }

    /// `(exp(logit − max) / sum − [j == target]) · inverse` for one row (zero when ignored).
    @inline(__always)
    private static func writeGradient(row: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>, width: Int,
                                      maximum: Float, sum: Float, target: Int32, ignoreIndex: Int32,
                                      slice: Range<Int>, inverse: Float) {
        if target == ignoreIndex {
            gradient.update(repeating: 0, count: width)
            return
        }
        let scale = inverse / sum
        writeScaledExponentials(row, gradient, width, shift: maximum, scale: scale)
        if slice.contains(Int(target)) { gradient[Int(target) - slice.lowerBound] -= inverse }
    }
}
