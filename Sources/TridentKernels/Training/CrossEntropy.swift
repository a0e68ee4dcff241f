import Foundation

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
    /// - Throws: `CrossEntropyError.targetOutOfRange` for a target outside the vocabulary.
    public static func lossAndGradient(logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>,
                                       logitGradient: UnsafeMutablePointer<Float>, tokens: Int, vocabulary: Int,
                                       ignoreIndex: Int32 = defaultIgnoreIndex, denominator: Int? = nil,
                                       pool: ThreadPool) throws -> CrossEntropyResult {
        try sliced(logits: logits, targets: targets, logitGradient: logitGradient, tokens: tokens,
                   slice: 0..<vocabulary, vocabulary: vocabulary, ignoreIndex: ignoreIndex,
                   denominator: denominator, pool: pool, reduceMaxima: { _ in }, reduceSums: { _ in })
    }

    /// Checks every target against `0 ..< vocabulary` (or the ignore index); returns the count of real targets.
    static func validate(_ targets: UnsafePointer<Int32>, tokens: Int, vocabulary: Int, ignoreIndex: Int32) throws -> Int {
        var count = 0
        for t in 0..<tokens where targets[t] != ignoreIndex {
            guard targets[t] >= 0 && Int(targets[t]) < vocabulary else {
                throw CrossEntropyError.targetOutOfRange(token: t, target: Int(targets[t]), vocabulary: vocabulary)
            }
            count += 1
        }
        return count
    }

    /// Cross-entropy over one vocabulary slice, with the two cross-slice reductions supplied by
    /// the caller (identity for one rank holding the whole vocabulary; all-reduces over a tensor
    /// group in `VocabParallelCrossEntropy`).
    /// - Parameters:
    ///   - reduceMaxima: turns `[tokens]` slice maxima into global maxima.
    ///   - reduceSums: turns `[2·tokens]` slice sums (Σ exp, target logit) into global sums.
    public static func sliced(logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>,
                              logitGradient: UnsafeMutablePointer<Float>, tokens: Int, slice: Range<Int>,
                              vocabulary: Int, ignoreIndex: Int32, denominator: Int?, pool: ThreadPool,
                              reduceMaxima: (inout [Float]) throws -> Void,
                              reduceSums: (inout [Float]) throws -> Void) throws -> CrossEntropyResult {
        precondition(slice.lowerBound >= 0 && slice.upperBound <= vocabulary, "slice \(slice) outside 0..<\(vocabulary)")
        let count = try CrossEntropy.validate(targets, tokens: tokens, vocabulary: vocabulary, ignoreIndex: ignoreIndex)
        let width = slice.count
        var maxima = rowMaxima(logits, tokens: tokens, width: width, pool: pool)           // [tokens]
        try reduceMaxima(&maxima)
        var sums = rowSums(logits, maxima: maxima, targets: targets, tokens: tokens, slice: slice,
                           ignoreIndex: ignoreIndex, pool: pool)                          // [Σ exp | target logit]
        try reduceSums(&sums)
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

/// A target token id outside the vocabulary (and not the ignore index): untrusted data.
public enum CrossEntropyError: Error, Equatable, Sendable, CustomStringConvertible {
    case targetOutOfRange(token: Int, target: Int, vocabulary: Int)

    public var description: String {
        switch self {
        case .targetOutOfRange(let token, let target, let vocabulary):
            return "target \(target) of token \(token) is outside the vocabulary 0..<\(vocabulary)"
        }
    }
}
