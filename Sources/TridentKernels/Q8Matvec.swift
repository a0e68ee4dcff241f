import CTridentQ8

/// Decode products of Q8_0 weights with 8-bit activations (`ActivationPrecision.int8`).

/// `output[r] = Σ_c weight[r, c] · input[c]` for a Q8_0 `weight` `[rows, columns]`, with
/// `input` `[columns]` rounded to 8 bits per block once, then integer block dot products on
/// `path`. Rows are split over the pool as in `matvec`.
public func matvecQ8(weight: WeightMatrix, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                     pool: ThreadPool, path: Q8DotPath = .current) {
    precondition(weight.dtype == .q8_0, "matvecQ8 needs q8_0 weights, not \(weight.dtype)")
    let blocks = weight.columns / 32
    Q8Activations.withBuffers(tokens: 1, blocks: blocks) { x in
        x.quantize(input, token: 0)
        pool.parallelChunks(weight.rows, granularity: 8) { range in
            q8Rows(weight, range, x, output, path: path)
        }
    }
}

/// Rows `range` of a Q8_0 `w` times one quantized token `x`, into `out[range]`.
@inline(__always)
func q8Rows(_ w: WeightMatrix, _ range: Range<Int>, _ x: Q8Activations, _ out: UnsafeMutablePointer<Float>,
            path: Q8DotPath) {
    let base = w.base.assumingMemoryBound(to: UInt8.self)
    let (first, last, blocks) = (range.lowerBound, range.upperBound, x.blocks)
    switch path {
    case .avx512VNNI:
        trident_q8_0_rows_avx512vnni(base, w.rowStride, first, last, x.quants, x.scales, x.corrections, blocks, out)
    case .avxVNNI:
        trident_q8_0_rows_avxvnni(base, w.rowStride, first, last, x.quants, x.scales, x.corrections, blocks, out)
    case .avx2:
        trident_q8_0_rows_avx2(base, w.rowStride, first, last, x.quants, x.scales, x.corrections, blocks, out)
    case .portable:
        for r in range { out[r] = Q8DotPortable.row(w.rowPointer(r), x) }
    }
}

/// The `portable` path: Swift SIMD lane loops (LLVM widens the bytes and multiplies in
/// 32-bit lanes; no special instructions needed).
enum Q8DotPortable {
    /// Σ over blocks of d_w · d_x · Σ q_w · q_x for one Q8_0 row (34-byte blocks).
    @inline(__always)
    static func row(_ row: UnsafeRawPointer, _ x: Q8Activations) -> Float {
        var acc0: Float = 0, acc1: Float = 0
        for b in 0..<x.blocks {
            let block = row + b * 34
            let q = (block + 2).assumingMemoryBound(to: Int8.self)
            let xq = x.quants + b * 32
            var sum = widenInt32(q) &* widenInt32(xq)
            sum &+= widenInt32(q + 8) &* widenInt32(xq + 8)
            sum &+= widenInt32(q + 16) &* widenInt32(xq + 16)
            sum &+= widenInt32(q + 24) &* widenInt32(xq + 24)
            let value = Float(sum.wrappedSum()) * (loadHalf(block, 0) * x.scales[b * 8])
            if b & 1 == 0 { acc0 += value } else { acc1 += value }
        }
        return acc0 + acc1
    }

    /// 8 signed bytes -> 8 signed 32-bit lanes (one `vpmovsxbd`).
    @inline(__always)
    static func widenInt32(_ p: UnsafePointer<Int8>) -> SIMD8<Int32> {
        SIMD8<Int32>(Int32(p[0]), Int32(p[1]), Int32(p[2]), Int32(p[3]),
                     Int32(p[4]), Int32(p[5]), Int32(p[6]), Int32(p[7]))
    }
}
