import Foundation

/// What one work item of the tiled attention reads: one token's query heads and the cached
/// keys and values of the KV head they share.
struct AttentionProblem {
    /// `[heads, headDim]`: every query head of the token (the item uses some of them).
    let queries: UnsafePointer<Float>
    /// Keys and values of the KV head, position 0; position `p` is `p * stride` elements on.
    let keys: CachedRows
    let values: CachedRows
    /// Elements between consecutive positions (`kvHeads * headDim`).
    let stride: Int
    let headDim: Int
    /// Score scale, `1/sqrt(headDim)`.
    let scale: Float
}

/// Online softmax (Milakov & Gimelshein 2018, as in flash-decoding) of up to
/// `OnlineSoftmax.maxGroup` query heads that share a KV head, over a range of positions.
///
/// The keys and values are streamed once, `tile` positions at a time; each head keeps a
/// running maximum `m` of its scaled scores, a running sum `l = Σ exp(s - m)` and an
/// accumulator `a = Σ exp(s - m) · v`. When a tile raises `m` to `m'`, `l` and `a` are
/// multiplied by `exp(m - m')`. The attention output is `a / l`; partial states over
/// disjoint ranges combine by the log-sum-exp rule (`combine`). Only a `[tile]` score row per
/// head exists at any time. With an f16 cache each tile is widened once into float32 rows,
/// which every head of the group then reads from L1.
///
/// The state lives in caller-provided scratch (`scratchCount` floats), so a step allocates nothing.
struct OnlineSoftmax {
    /// Positions per tile.
    static let tile = 32
    /// Most query heads attended together in one pass over the cache.
    static let maxGroup = 8

    let headDim: Int
    let maxima: UnsafeMutablePointer<Float>        // [maxGroup]
    let sums: UnsafeMutablePointer<Float>          // [maxGroup]
    let accumulators: UnsafeMutablePointer<Float>  // [maxGroup, headDim]
    let scores: UnsafeMutablePointer<Float>        // [maxGroup, tile]
    let keyTile: UnsafeMutablePointer<Float>       // [tile, headDim], f16 caches only
    let valueTile: UnsafeMutablePointer<Float>     // [tile, headDim], f16 caches only

    /// Floats of scratch one state needs.
    static func scratchCount(headDim: Int, type: KVCacheType) -> Int {
        maxGroup * (headDim + 2 + tile) + (type == .f32 ? 0 : 2 * tile * headDim)
    }

    /// A state over `scratch` (`scratchCount(headDim:type:)` floats).
    init(scratch: UnsafeMutablePointer<Float>, headDim: Int) {
        self.headDim = headDim
        maxima = scratch
        sums = maxima + Self.maxGroup
        accumulators = sums + Self.maxGroup
        scores = accumulators + Self.maxGroup * headDim
        keyTile = scores + Self.maxGroup * Self.tile
        valueTile = keyTile + Self.tile * headDim
    }

    /// Attends heads `heads[0 ..< count]` (`count <= maxGroup`) of `problem` to positions
    /// `positions`, starting from an empty state. Afterwards head `i`'s state is
    /// `maxima[i]`, `sums[i]` and `accumulators[i * headDim ..< (i + 1) * headDim]`.
    @inline(__always)
    func attend<L: AttentionLanes>(_ lanes: L.Type, _ problem: AttentionProblem, heads: UnsafePointer<Int>,
                                   count: Int, positions: Range<Int>) {
        precondition(count >= 1 && count <= Self.maxGroup)
        maxima.update(repeating: -.infinity, count: count)
        sums.update(repeating: 0, count: count)
        accumulators.update(repeating: 0, count: count * headDim)
        var first = positions.lowerBound
        while first < positions.upperBound {
            let n = min(Self.tile, positions.upperBound - first)
            let (keys, keyStride) = rows(problem.keys, first: first, count: n, problem: problem, widenInto: keyTile)
            for i in 0..<count {
                let q = problem.queries + heads[i] * headDim
                let s = scores + i * Self.tile
                for j in 0..<n { s[j] = L.dot(q, keys + j * keyStride, headDim) * problem.scale }
                rescale(L.self, head: i, tileScores: s, count: n)
            }
            let (values, valueStride) = rows(problem.values, first: first, count: n, problem: problem,
                                             widenInto: valueTile)
            for i in 0..<count {
                L.accumulate(scores + i * Self.tile, values, stride: valueStride, count: n,
                             into: accumulators + i * headDim, width: headDim)
            }
            first += n
        }
    }

    /// Folds one tile's scores of head `i` into its state: raises the maximum, rescales the
    /// sum and accumulator, and replaces the scores by their weights `exp(s - m)`.
    @inline(__always)
    private func rescale<L: AttentionLanes>(_ lanes: L.Type, head i: Int, tileScores s: UnsafeMutablePointer<Float>,
                                            count n: Int) {
        var tileMax = s[0]
        for j in 1..<n { tileMax = max(tileMax, s[j]) }
        let old = maxima[i]
        let new = max(old, tileMax)
        let weightSum = exponentiate(s, count: n, shift: new)
        if old == -.infinity {
            sums[i] = weightSum
        } else if new > old {
            let correction = expf(old - new)
            sums[i] = sums[i] * correction + weightSum
            L.scale(accumulators + i * headDim, by: correction, headDim)
        } else {
            sums[i] += weightSum
        }
        maxima[i] = new
    }

    /// `s[j] = exp(s[j] - shift)` in place; returns the sum of the results.
    @inline(__always)
    private func exponentiate(_ s: UnsafeMutablePointer<Float>, count: Int, shift: Float) -> Float {
        let m = V16(repeating: shift)
        var acc = V16()
        var j = 0
        while j + 16 <= count {
            let e = exp16(load16(s + j) - m)
            store16(e, s + j)
            acc += e
            j += 16
        }
        var sum = horizontalSum(acc)
        while j < count {
            s[j] = expf(s[j] - shift)
            sum += s[j]
            j += 1
        }
        return sum
    }

    /// Float32 rows of positions `first ..< first + count`: the cache itself when it holds
    /// float32 (`stride` apart), else widened into `buffer` (`headDim` apart).
    @inline(__always)
    private func rows(_ cached: CachedRows, first: Int, count: Int, problem: AttentionProblem,
                      widenInto buffer: UnsafeMutablePointer<Float>) -> (UnsafePointer<Float>, Int) {
        switch cached.type {
        case .f32:
            return (cached.floats + first * problem.stride, problem.stride)
        case .f16:
            for j in 0..<count {
                HalfConversion.widen(cached.halves + (first + j) * problem.stride, into: buffer + j * headDim,
                                     count: headDim)
            }
            return (UnsafePointer(buffer), headDim)
        }
    }

    /// Head `i`'s attention output, `a / l`, into `out` (`[headDim]`).
    @inline(__always)
    func write(head i: Int, to out: UnsafeMutablePointer<Float>) {
        let inverse = 1 / sums[i]
        let a = accumulators + i * headDim
        for d in 0..<headDim { out[d] = a[d] * inverse }
    }

    /// Head `i`'s partial state into `partial`, `[m, l, a...]` (`headDim + 2` floats).
    @inline(__always)
    func save(head i: Int, to partial: UnsafeMutablePointer<Float>) {
        partial[0] = maxima[i]
        partial[1] = sums[i]
        (partial + 2).update(from: accumulators + i * headDim, count: headDim)
    }

    /// Combines `count` partial states of one head over disjoint position ranges (each
    /// `[m, l, a...]`, `headDim + 2` floats, `stride` floats apart) into the attention output:
    /// with `M = max m_s`, `out = Σ exp(m_s - M) a_s / Σ exp(m_s - M) l_s`. A state of an
    /// empty range (`m = -inf`, `l = 0`) weighs nothing; at least one range must be non-empty.
    static func combine(_ partials: UnsafePointer<Float>, count: Int, stride: Int, headDim: Int,
                        into out: UnsafeMutablePointer<Float>) {
        var top = -Float.infinity
        for s in 0..<count { top = max(top, partials[s * stride]) }
        var total: Float = 0
        out.update(repeating: 0, count: headDim)
        for s in 0..<count {
            let p = partials + s * stride
            guard p[0] > -.infinity else { continue }
            let weight = expf(p[0] - top)
            total += weight * p[1]
            for d in 0..<headDim { out[d] += weight * p[2 + d] }
        }
        let inverse = 1 / total
        for d in 0..<headDim { out[d] *= inverse }
    }
}
