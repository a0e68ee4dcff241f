import Foundation

/// Which query heads a rank computes and which cached key/value head each one reads.
public struct AttentionLayout: Sendable, Equatable {
    /// Query heads in `queries` / `output` (this rank's heads).
    public let heads: Int
    /// Key/value heads held in this rank's cache.
    public let kvHeads: Int
    public let headDim: Int
    /// `kvHeadForHead[h]` = index (in this rank's cache, `0..<kvHeads`) of the KV head
    /// that local query head `h` attends with. Uneven tensor-parallel splits give any table.
    public let kvHeadForHead: [Int]

    public init(heads: Int, kvHeads: Int, headDim: Int, kvHeadForHead: [Int]) {
        precondition(heads > 0 && kvHeads > 0 && headDim > 0, "attention layout needs positive sizes")
        precondition(kvHeadForHead.count == heads, "kvHeadForHead has \(kvHeadForHead.count) entries, expected \(heads)")
        precondition(kvHeadForHead.allSatisfy { (0..<kvHeads).contains($0) }, "kvHeadForHead entry outside 0..<\(kvHeads)")
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.kvHeadForHead = kvHeadForHead
    }

    /// Standard grouped-query layout: head `h` uses KV head `h / (heads / kvHeads)`.
    public static func grouped(heads: Int, kvHeads: Int, headDim: Int) -> AttentionLayout {
        precondition(kvHeads > 0 && heads % kvHeads == 0, "\(heads) heads do not divide into \(kvHeads) KV groups")
        let group = heads / kvHeads
        return AttentionLayout(heads: heads, kvHeads: kvHeads, headDim: headDim,
                               kvHeadForHead: (0..<heads).map { $0 / group })
    }
}

/// Causal grouped-query attention over a caller-owned float32 KV cache.
public enum Attention {
    /// For every token `t` and head `h`: attends query `[t, h]` (position
    /// `startPosition + t`) to cached positions `0 ... startPosition + t` of KV head
    /// `layout.kvHeadForHead[h]`, with scale `1/sqrt(headDim)`.
    ///
    /// - Parameters:
    ///   - queries: `[tokens, heads, headDim]` f32 (RoPE already applied).
    ///   - keys, values: `[positions, kvHeads, headDim]` f32, holding at least
    ///     `startPosition + tokens` positions (this step's keys/values included).
    ///   - output: `[tokens, heads, headDim]` f32; must not alias the inputs.
    ///   - pool: work is split over (token, head) pairs.
    public static func causal(queries: UnsafePointer<Float>, keys: UnsafePointer<Float>,
                              values: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                              tokens: Int, startPosition: Int, layout: AttentionLayout, pool: ThreadPool) {
        precondition(tokens >= 0 && startPosition >= 0)
        let heads = layout.heads, headDim = layout.headDim
        let kvStride = layout.kvHeads * headDim
        let scale = 1 / Float(headDim).squareRoot()
        layout.kvHeadForHead.withUnsafeBufferPointer { table in
            pool.parallelFor(tokens * heads) { item in
                let t = item / heads, h = item % heads
                let length = startPosition + t + 1
                let q = queries + item * headDim
                let k = keys + table[h] * headDim
                let v = values + table[h] * headDim
                let out = output + item * headDim
                withUnsafeTemporaryAllocation(of: Float.self, capacity: length) { buffer in
                    let scores = buffer.baseAddress!
                    for p in 0..<length {
                        scores[p] = VectorKernels.dot(q, k + p * kvStride, count: headDim) * scale
                    }
                    VectorKernels.softmax(scores, count: length)
                    out.update(repeating: 0, count: headDim)
                    for p in 0..<length {
                        VectorKernels.axpy(scores[p], v + p * kvStride, out, count: headDim)
                    }
                }
            }
        }
    }

    /// Naive Double-precision reference for `causal` (same layout and shapes).
    public static func causalReference(queries: [Float], keys: [Float], values: [Float], tokens: Int,
                                       startPosition: Int, layout: AttentionLayout) -> [Float] {
        let heads = layout.heads, d = layout.headDim, kvStride = layout.kvHeads * d
        var out = [Float](repeating: 0, count: tokens * heads * d)
        for t in 0..<tokens {
            for h in 0..<heads {
                let qBase = (t * heads + h) * d
                let kvBase = layout.kvHeadForHead[h] * d
                let length = startPosition + t + 1
                var scores = [Double](repeating: 0, count: length)
                for p in 0..<length {
                    var s: Double = 0
                    for i in 0..<d { s += Double(queries[qBase + i]) * Double(keys[p * kvStride + kvBase + i]) }
                    scores[p] = s / Double(d).squareRoot()
                }
                let m = scores.max()!
                let e = scores.map { exp($0 - m) }
                let z = e.reduce(0, +)
                for i in 0..<d {
                    var acc: Double = 0
                    for p in 0..<length { acc += e[p] / z * Double(values[p * kvStride + kvBase + i]) }
                    out[qBase + i] = Float(acc)
                }
            }
        }
        return out
    }
}
