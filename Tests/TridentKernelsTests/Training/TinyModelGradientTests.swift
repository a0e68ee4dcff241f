import Foundation
import Testing
@testable import TridentKernels

/// The kernels composed into a whole tiny Llama (embedding, RMSNorm, GQA attention with RoPE,
/// SwiGLU MLP, final norm, tied LM head, cross-entropy): the f32 backward, wired as the layers
/// will wire it, against central differences of a Double forward of the same model.
/// This is also the reference order of calls for the layers' `backward`.
@Suite struct TinyModelGradientTests {
    static let (tokens, hidden, heads, kvHeads, headDim, intermediate, vocabulary) = (5, 8, 2, 1, 4, 6, 11)
    static let eps: Float = 1e-5
    static let ids: [Int32] = [3, 7, 3, 0, 10]
    static let targets: [Int32] = [7, 3, -100, 10, 2]
    static let positions = [0, 1, 2, 3, 4]
    /// Parameter names and shapes `[rows, columns]` (weights `[out, in]`).
    static let shapes: [(String, Int, Int)] = [
        ("embedding", vocabulary, hidden), ("norm1", 1, hidden), ("wq", heads * headDim, hidden),
        ("wk", kvHeads * headDim, hidden), ("wv", kvHeads * headDim, hidden), ("wo", hidden, heads * headDim),
        ("norm2", 1, hidden), ("gate", intermediate, hidden), ("up", intermediate, hidden),
        ("down", hidden, intermediate), ("finalNorm", 1, hidden),
    ]
    static let layout = AttentionLayout.grouped(heads: heads, kvHeads: kvHeads, headDim: headDim)
    static let attentionCase = AttentionBackwardTests.Case(tokens: tokens, start: 0, heads: heads, kvHeads: kvHeads,
                                                           headDim: headDim, table: layout.kvHeadForHead)

    static func initial() -> [[Float]] {
        shapes.enumerated().map { i, shape in
            shape.1 == 1 ? randomFloats(shape.2, in: 0.8...1.2, seed: UInt64(700 + i))
                         : randomFloats(shape.1 * shape.2, in: -0.6...0.6, seed: UInt64(700 + i))
        }
    }

    // MARK: Double forward

    static func linear(_ x: [Double], _ w: [Double], rows: Int, inFeatures: Int, outFeatures: Int) -> [Double] {
        var y = [Double](repeating: 0, count: rows * outFeatures)
        for t in 0..<rows { for o in 0..<outFeatures { for i in 0..<inFeatures {
            y[t * outFeatures + o] += x[t * inFeatures + i] * w[o * inFeatures + i]
        } } }
        return y
    }

    static func lossDouble(_ p: [[Double]]) -> Double {
        let (T, H) = (tokens, hidden)
        let h0 = ids.flatMap { p[0][(Int($0) * H)..<(Int($0) * H + H)] }
        let n1 = NormBackwardTests.rmsNormDouble(h0, p[1], tokens: T, dim: H)
        let rope = { (x: [Double], n: Int) in
            RopeBackwardTests.ropeDouble(x, tokens: T, heads: n, headDim: headDim, positions: positions, base: 10000)
        }
        let q = rope(linear(n1, p[2], rows: T, inFeatures: H, outFeatures: heads * headDim), heads)
        let k = rope(linear(n1, p[3], rows: T, inFeatures: H, outFeatures: kvHeads * headDim), kvHeads)
        let v = linear(n1, p[4], rows: T, inFeatures: H, outFeatures: kvHeads * headDim)
        let attention = AttentionBackwardTests.forwardDouble(attentionCase, q, k, v).out
        let h1 = zip(h0, linear(attention, p[5], rows: T, inFeatures: heads * headDim, outFeatures: H)).map(+)
        let n2 = NormBackwardTests.rmsNormDouble(h1, p[6], tokens: T, dim: H)
        let g = linear(n2, p[7], rows: T, inFeatures: H, outFeatures: intermediate)
        let u = linear(n2, p[8], rows: T, inFeatures: H, outFeatures: intermediate)
        let a = zip(g, u).map { $0 / (1 + exp(-$0)) * $1 }
        let h2 = zip(h1, linear(a, p[9], rows: T, inFeatures: intermediate, outFeatures: H)).map(+)
        let n3 = NormBackwardTests.rmsNormDouble(h2, p[10], tokens: T, dim: H)
        let logits = linear(n3, p[0], rows: T, inFeatures: H, outFeatures: vocabulary)
        var sum = 0.0, count = 0
        for t in 0..<T where targets[t] != -100 {
            let row = logits[(t * vocabulary)..<((t + 1) * vocabulary)]
            let m = row.max()!
            sum += log(row.reduce(0) { $0 + exp($1 - m) }) + m - logits[t * vocabulary + Int(targets[t])]
            count += 1
        }
        return sum / Double(count)
    }

    /// Every parameter's gradient within 2e-5 × max(1, max |gradient|) of central differences;
    /// the loss within 1e-6 relative.
    @Test func wholeModelGradientMatchesFiniteDifferences() throws {
        let parameters = Self.initial()
        let (loss, gradients) = try TinyModelBackward.lossAndGradients(parameters, pool: testPools[1])
        let doubles = parameters.map { $0.map(Double.init) }
        let want = Self.lossDouble(doubles)
        #expect(abs(loss - want) <= 1e-6 * want)
        for (index, shape) in Self.shapes.enumerated() {
            let fd = finiteDifferences(parameters[index]) { values in
                var p = doubles
                p[index] = values
                return Self.lossDouble(p)
            }
            #expect(scaledError(gradients[index], fd) < 2e-5, "\(shape.0)")
        }
    }
}
