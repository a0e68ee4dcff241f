import Foundation
import TridentCollectives
import TridentKernels
import TridentModel
import TridentTraining

/// A small model for session tests, with hand-written gradients and a vocabulary-sharded head:
/// `h = tanh(E[x]) + b`, `logits = W h`, cross-entropy over the vocabulary.
/// - `E` `[V, H]` token embedding, replicated on every tensor rank (decayed);
/// - `b` `[H]` bias, replicated (not decayed);
/// - `W` `[V, H]` output projection, rows split over the tensor group (decayed).
/// Weights come from a seed and do not depend on the layout, so every layout starts equal.
final class ToyTrainableModel: TrainableModel {
    let vocabulary: Int
    let hidden: Int
    let slice: Range<Int>
    let tensorGroup: any Communicator
    let pool = ThreadPool(threadCount: 1)
    let parameters: [TrainableParameter]
    var gradientReady: ((Int) -> Void)?
    private var buffers: [UnsafeMutableBufferPointer<Float>] = []

    init(vocabulary: Int = 13, hidden: Int = 6, seed: UInt64 = 7, tensorGroup: any Communicator) {
        self.vocabulary = vocabulary
        self.hidden = hidden
        self.tensorGroup = tensorGroup
        let size = tensorGroup.size, rank = tensorGroup.rank
        let base = vocabulary / size, extra = vocabulary % size
        let lower = rank * base + min(rank, extra)
        slice = lower..<(lower + base + (rank < extra ? 1 : 0))
        var made: [UnsafeMutableBufferPointer<Float>] = []
        func buffer(_ values: [Float]) -> UnsafeMutableBufferPointer<Float> {
            let pointer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(values.count, 1))
            _ = pointer.initialize(from: values)
            made.append(pointer)
            return UnsafeMutableBufferPointer(rebasing: pointer[0..<values.count])
        }
        let embedding = toyFloats(vocabulary * hidden, in: -1...1, seed: seed)
        let bias = toyFloats(hidden, in: -0.2...0.2, seed: seed + 1)
        let head = Array(toyFloats(vocabulary * hidden, in: -0.5...0.5, seed: seed + 2)[(slice.lowerBound * hidden)..<(slice.upperBound * hidden)])
        parameters = [
            TrainableParameter(name: "token_embd.weight", globalShape: [vocabulary, hidden], values: buffer(embedding),
                               gradient: buffer(.init(repeating: 0, count: embedding.count)), decay: true, sharing: .replicated),
            TrainableParameter(name: "bias", globalShape: [hidden], values: buffer(bias),
                               gradient: buffer(.init(repeating: 0, count: hidden)), decay: false, sharing: .replicated),
            TrainableParameter(name: "output.weight", globalShape: [vocabulary, hidden], shardRows: slice, values: buffer(head),
                               gradient: buffer(.init(repeating: 0, count: head.count)), decay: true, sharing: .sharded),
        ]
        buffers = made
    }

    deinit { for buffer in buffers { buffer.deallocate() } }

    func accumulateGradients(sequences: [[Int32]], denominator: Int) throws -> (lossSum: Double, targets: Int) {
        let inputs = sequences.flatMap { $0.dropLast() }, targets = sequences.flatMap { $0.dropFirst() }
        let tokens = inputs.count, width = slice.count
        let E = parameters[0].values, b = parameters[1].values, W = parameters[2].values
        var pre = [Float](repeating: 0, count: tokens * hidden), h = pre            // [tokens, hidden]
        for t in 0..<tokens {
            for j in 0..<hidden {
                pre[t * hidden + j] = tanhf(E[Int(inputs[t]) * hidden + j])
                h[t * hidden + j] = pre[t * hidden + j] + b[j]
            }
        }
        var logits = [Float](repeating: 0, count: tokens * width)                      // [tokens, slice]
        for t in 0..<tokens {
            for v in 0..<width {
                var sum: Float = 0
                for j in 0..<hidden { sum += W[v * hidden + j] * h[t * hidden + j] }
                logits[t * width + v] = sum
            }
        }
        var gradient = logits
        let result = try targets.withUnsafeBufferPointer { target in
            try VocabParallelCrossEntropy.lossAndGradient(logits: logits, targets: target.baseAddress!, logitGradient: &gradient,
                                                          tokens: tokens, slice: slice, vocabulary: vocabulary,
                                                          group: tensorGroup, denominator: denominator, pool: pool)
        }
        try backward(gradient, inputs: inputs, pre: pre, h: h)
        return (result.lossSum, result.targetCount)
    }

    /// dW += dlogitsᵀ h; dh = Σ_tensor dlogits W; db += Σ dh; dE[x] += dh · (1 − tanh²).
    private func backward(_ dLogits: [Float], inputs: [Int32], pre: [Float], h: [Float]) throws {
        let tokens = inputs.count, width = slice.count
        let W = parameters[2].values, dW = parameters[2].gradient
        var dh = [Float](repeating: 0, count: tokens * hidden)
        for t in 0..<tokens {
            for v in 0..<width {
                let g = dLogits[t * width + v]
                for j in 0..<hidden {
                    dW[v * hidden + j] += g * h[t * hidden + j]
                    dh[t * hidden + j] += g * W[v * hidden + j]
                }
            }
        }
        gradientReady?(2)
        try tensorGroup.allReduce(&dh, op: .sum)
        let db = parameters[1].gradient, dE = parameters[0].gradient
        for t in 0..<tokens {
            for j in 0..<hidden {
                db[j] += dh[t * hidden + j]
                let y = pre[t * hidden + j]
                dE[Int(inputs[t]) * hidden + j] += dh[t * hidden + j] * (1 - y * y)
            }
        }
        gradientReady?(1)
        gradientReady?(0)
    }
}

/// SplitMix64, for the toy model's weights and token streams.
struct ToyGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// `count` floats uniform in `range`, from `seed`.
func toyFloats(_ count: Int, in range: ClosedRange<Float>, seed: UInt64) -> [Float] {
    var generator = ToyGenerator(state: seed)
    return (0..<count).map { _ in Float.random(in: range, using: &generator) }
}
