/// Products of a few tokens (2 to `PrefillKernel.panelMinimumTokens - 1`: the decode step of
/// a handful of running sequences) with Q4_1, Q4_0 or Q8_0 weights, on CPUs with AVX-512: each
/// 32-weight block is dequantized once, in registers (two 16-lane vectors), and multiplied with
/// up to four tokens' inputs, two weight rows at a time, so the weights stream from memory once
/// per step as in a matrix-vector product. (`MatmulTiled` would write each tile of rows out as
/// float32 and read it back per pair of tokens.) Results equal the other paths up to float32
/// rounding: a weight is dequantized as `d·q + m` before it multiplies.
enum MatmulFewTokens {
    /// Weight types with register dequantizers here.
    static func supports(_ dtype: DType) -> Bool {
        dtype == .q4_1 || dtype == .q4_0 || dtype == .q8_0
    }

    /// Weight rows per work item.
    static let itemRows = 32

    /// - Parameters: `input` `[tokens, weight.columns]` (row stride `inputStride`), `output`
    ///   `[tokens, weight.rows]` (row stride `outputStride`); `weight.dtype` is `supports`ed and
    ///   its columns a multiple of 32.
    static func run(weight: WeightMatrix, input: UnsafePointer<Float>, inputStride: Int,
                    output: UnsafeMutablePointer<Float>, outputStride: Int, tokens: Int, pool: ThreadPool) {
        precondition(supports(weight.dtype) && weight.columns % 32 == 0, "few-token product: \(weight.dtype)")
        let items = (weight.rows + itemRows - 1) / itemRows
        pool.parallelFor(items) { item in
            let rows = (item * itemRows)..<min(weight.rows, (item + 1) * itemRows)
            var first = 0
            while first < tokens {
                let count = min(4, tokens - first)
                // Missing tokens of a last group of fewer than 4 re-read the group's first input
                // (their sums are computed and dropped).
                func x(_ t: Int) -> UnsafePointer<Float> { input + (first + min(t, count - 1)) * inputStride }
                let (x0, x1, x2, x3) = (x(0), x(1), x(2), x(3))
                var r = rows.lowerBound
                while r < rows.upperBound {
                    let pair = r + 1 < rows.upperBound
                    let sums = dotRows(weight, r, pair ? r + 1 : r, x0, x1, x2, x3)
                    for t in 0..<count {
                        output[(first + t) * outputStride + r] = sums.0[t]
                        if pair { output[(first + t) * outputStride + r + 1] = sums.1[t] }
                    }
                    r += pair ? 2 : 1
                }
                first += count
            }
        }
    }

    /// Rows `r0` and `r1` of `w` times four inputs: (row r0 · x0...x3, row r1 · x0...x3).
    @inline(__always)
    static func dotRows(_ w: WeightMatrix, _ r0: Int, _ r1: Int, _ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>,
                        _ x2: UnsafePointer<Float>, _ x3: UnsafePointer<Float>) -> (SIMD4<Float>, SIMD4<Float>) {
        switch w.dtype {
        case .q4_1: return blocks(w.rowPointer(r0), w.rowPointer(r1), w.columns / 32, 20, x0, x1, x2, x3, Q41.self)
        case .q4_0: return blocks(w.rowPointer(r0), w.rowPointer(r1), w.columns / 32, 18, x0, x1, x2, x3, Q40.self)
        default: return blocks(w.rowPointer(r0), w.rowPointer(r1), w.columns / 32, 34, x0, x1, x2, x3, Q80.self)
        }
    }

    /// One block's 32 weights as float32: elements 0..<16 and 16..<32.
    protocol BlockDequantizer {
        static func weights(_ block: UnsafeRawPointer) -> (V16, V16)
    }

    /// `d·q + m`; q in the low nibbles (elements 0..<16) and high nibbles (16..<32).
    enum Q41: BlockDequantizer {
        @inline(__always)
        static func weights(_ block: UnsafeRawPointer) -> (V16, V16) {
            let raw = widenBytes16((block + 4).assumingMemoryBound(to: UInt8.self))
            let d = V16(repeating: loadHalf(block, 0)), m = V16(repeating: loadHalf(block, 2))
            return (fmaWeights(uintsToFloat16(raw & 15), d, m), fmaWeights(uintsToFloat16(raw &>> 4), d, m))
        }
    }

    /// `d·(q − 8)`.
    enum Q40: BlockDequantizer {
        @inline(__always)
        static func weights(_ block: UnsafeRawPointer) -> (V16, V16) {
            let raw = widenBytes16((block + 2).assumingMemoryBound(to: UInt8.self))
            let d = V16(repeating: loadHalf(block, 0)), m = V16(repeating: -8 * loadHalf(block, 0))
            return (fmaWeights(uintsToFloat16(raw & 15), d, m), fmaWeights(uintsToFloat16(raw &>> 4), d, m))
        }
    }

    /// `d·q` with signed bytes.
    enum Q80: BlockDequantizer {
        @inline(__always)
        static func weights(_ block: UnsafeRawPointer) -> (V16, V16) {
            let q = (block + 2).assumingMemoryBound(to: Int8.self), d = V16(repeating: loadHalf(block, 0))
            return (widenInt8x16(q) * d, widenInt8x16(q + 16) * d)
        }
    }

    /// `q·d + m`, fused.
    @inline(__always)
    static func fmaWeights(_ q: V16, _ d: V16, _ m: V16) -> V16 { m.addingProduct(q, d) }

    @inline(__always)
    static func blocks<D: BlockDequantizer>(_ row0: UnsafeRawPointer, _ row1: UnsafeRawPointer, _ count: Int, _ bytes: Int,
                                            _ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>,
                                            _ x2: UnsafePointer<Float>, _ x3: UnsafePointer<Float>,
                                            _: D.Type) -> (SIMD4<Float>, SIMD4<Float>) {
        var a00 = V16(), a01 = V16(), a02 = V16(), a03 = V16()
        var a10 = V16(), a11 = V16(), a12 = V16(), a13 = V16()
        for b in 0..<count {
            let (w0lo, w0hi) = D.weights(row0 + b &* bytes)
            let (w1lo, w1hi) = D.weights(row1 + b &* bytes)
            let o = b &* 32
            var lo = load16(x0 + o), hi = load16(x0 + o + 16)
            a00 = a00.addingProduct(w0lo, lo).addingProduct(w0hi, hi)
            a10 = a10.addingProduct(w1lo, lo).addingProduct(w1hi, hi)
            lo = load16(x1 + o); hi = load16(x1 + o + 16)
            a01 = a01.addingProduct(w0lo, lo).addingProduct(w0hi, hi)
            a11 = a11.addingProduct(w1lo, lo).addingProduct(w1hi, hi)
            lo = load16(x2 + o); hi = load16(x2 + o + 16)
            a02 = a02.addingProduct(w0lo, lo).addingProduct(w0hi, hi)
            a12 = a12.addingProduct(w1lo, lo).addingProduct(w1hi, hi)
            lo = load16(x3 + o); hi = load16(x3 + o + 16)
            a03 = a03.addingProduct(w0lo, lo).addingProduct(w0hi, hi)
            a13 = a13.addingProduct(w1lo, lo).addingProduct(w1hi, hi)
        }
        return (SIMD4(horizontalSum(a00), horizontalSum(a01), horizontalSum(a02), horizontalSum(a03)),
                SIMD4(horizontalSum(a10), horizontalSum(a11), horizontalSum(a12), horizontalSum(a13)))
    }
}
