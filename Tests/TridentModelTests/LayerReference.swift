import Foundation
import TridentKernels
import TridentModel

/// Plain-loop Double-precision references for the layers, written from the math (not from the
/// kernels): activations are row-major `[rows, width]` arrays of Double.
enum Reference {
    /// `y = x Wᵀ + b`; `w`: `[outputs, inputs]`.
    static func linear(_ x: [Double], _ w: [Float], _ b: [Float]?, inputs: Int) -> [Double] {
        let outputs = w.count / inputs, rows = x.count / inputs
        var y = [Double](repeating: 0, count: rows * outputs)
        for t in 0 ..< rows {
            for o in 0 ..< outputs {
                var s = b.map { Double($0[o]) } ?? 0
                for i in 0 ..< inputs { s += x[t * inputs + i] * Double(w[o * inputs + i]) }
                y[t * outputs + o] = s
            }
        }
        return y
    }

    /// RMSNorm (no bias) or LayerNorm (bias) of each row.
    static func norm(_ x: [Double], _ n: NormWeights, eps: Float) -> [Double] {
        let d = n.weight.count
        var y = x
        for t in 0 ..< x.count / d {
            let row = Array(x[t * d ..< (t + 1) * d])
            let mean = n.bias == nil ? 0 : row.reduce(0, +) / Double(d)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(d)
            for i in 0 ..< d {
                y[t * d + i] = (row[i] - mean) / (variance + Double(eps)).squareRoot() * Double(n.weight[i])
                    + (n.bias.map { Double($0[i]) } ?? 0)
            }
        }
        return y
    }

    /// Rotates adjacent pairs of every head of `[rows, heads * headDim]` by `position * theta^(-2i/headDim)`.
    static func rope(_ x: [Double], heads: Int, headDim: Int, positions: [Int], theta: Float) -> [Double] {
        var y = x
        for (t, p) in positions.enumerated() {
            for h in 0 ..< heads {
                for i in 0 ..< headDim / 2 {
                    let angle = Double(p) * pow(Double(theta), -2 * Double(i) / Double(headDim))
                    let k = (t * heads + h) * headDim + 2 * i
                    y[k] = x[k] * cos(angle) - x[k + 1] * sin(angle)
                    y[k + 1] = x[k] * sin(angle) + x[k + 1] * cos(angle)
                }
            }
        }
        return y
    }

    /// Causal attention of a whole sequence (row `t` sees rows `0 ... t`); head `h` reads KV
    /// head `h / (heads / kvHeads)`. q: `[rows, heads * hd]`, k, v: `[rows, kvHeads * hd]`.
    static func causalAttention(q: [Double], k: [Double], v: [Double], heads: Int, kvHeads: Int,
                                headDim hd: Int) -> [Double] {
        let rows = q.count / (heads * hd), group = heads / kvHeads
        var out = [Double](repeating: 0, count: q.count)
        for t in 0 ..< rows {
            for h in 0 ..< heads {
                let kh = h / group
                let scores = (0 ... t).map { p in
                    (0 ..< hd).reduce(0.0) { $0 + q[(t * heads + h) * hd + $1] * k[(p * kvHeads + kh) * hd + $1] }
                        / Double(hd).squareRoot()
                }
                let m = scores.max()!
                let e = scores.map { exp($0 - m) }
                let z = e.reduce(0, +)
                for i in 0 ..< hd {
                    out[(t * heads + h) * hd + i] = (0 ... t).reduce(0.0) { $0 + e[$1] / z * v[($1 * kvHeads + kh) * hd + i] }
                }
            }
        }
        return out
    }

    /// The attention sub-layer on a whole sequence at positions `0 ..< rows`. h: `[rows, hidden]` normed.
    static func attention(_ h: [Double], _ b: BlockWeights, _ c: ModelConfiguration) -> [Double] {
        let d = c.hiddenSize, hd = c.headDimension
        var q = linear(h, b.query, b.queryBias, inputs: d)
        var k = linear(h, b.key, b.keyBias, inputs: d)
        let v = linear(h, b.value, b.valueBias, inputs: d)
        if c.positionEncoding == .rope {
            let positions = Array(0 ..< h.count / d)
            q = rope(q, heads: c.headCount, headDim: hd, positions: positions, theta: c.ropeTheta)
            k = rope(k, heads: c.kvHeadCount, headDim: hd, positions: positions, theta: c.ropeTheta)
        }
        let context = causalAttention(q: q, k: k, v: v, heads: c.headCount, kvHeads: c.kvHeadCount, headDim: hd)
        return linear(context, b.output, b.outputBias, inputs: c.queryDimension)
    }

    /// The MLP sub-layer. h: `[rows, hidden]` normed.
    static func mlp(_ h: [Double], _ b: BlockWeights, _ c: ModelConfiguration) -> [Double] {
        let d = c.hiddenSize
        var inner = linear(h, b.up, b.upBias, inputs: d).map { $0 }
        if let gate = b.gate {
            let g = linear(h, gate, b.gateBias, inputs: d)
            inner = zip(g, inner).map { c.activation.reference($0) * $1 }
        } else {
            inner = inner.map { c.activation.reference($0) }
        }
        return linear(inner, b.down, b.downBias, inputs: c.intermediateSize)
    }

    /// One pre-norm block: `h = x + attention(norm(x))`, `x = h + mlp(norm(h))`.
    static func block(_ x: [Double], _ b: BlockWeights, _ c: ModelConfiguration) -> [Double] {
        let a = attention(norm(x, b.attentionNorm, eps: c.rmsNormEpsilon), b, c)
        let h = zip(x, a).map(+)
        let m = mlp(norm(h, b.mlpNorm, eps: c.rmsNormEpsilon), b, c)
        return zip(h, m).map(+)
    }

    /// Logits `[tokens, vocab]` of a whole sequence through the whole model.
    static func logits(_ model: RandomTransformer, tokens: [Int32]) -> [Double] {
        let c = model.c, d = c.hiddenSize
        var x = [Double](repeating: 0, count: tokens.count * d)
        for (t, id) in tokens.enumerated() {
            for i in 0 ..< d {
                x[t * d + i] = Double(model.embedding[Int(id) * d + i])
                if let positions = model.positions { x[t * d + i] += Double(positions[t * d + i]) }
            }
        }
        for b in model.blocks { x = block(x, b, c) }
        return linear(norm(x, model.finalNorm, eps: c.rmsNormEpsilon), model.output ?? model.embedding, nil,
                      inputs: d)
    }
}

/// max |got - want| / max(max |want|, 1), for Float results against a Double reference.
func relativeError(_ got: [Float], _ want: [Double]) -> Double {
    precondition(got.count == want.count, "\(got.count) vs \(want.count) values")
    let scale = max(want.map { abs($0) }.max() ?? 0, 1)
    return zip(got, want).map { abs(Double($0) - $1) }.max().map { $0 / scale } ?? 0
}
