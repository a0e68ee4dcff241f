/// The register micro-kernels of `MatmulPanels`: 12 weight rows (dequantized, row-major,
/// read in place: one broadcast per row and depth step) times one packed panel of tokens
/// (`[depth][width]`, the tokens' inputs side by side), over the whole depth, then stored
/// transposed into the `[tokens, rows]` output (`Target`). A 32-token panel runs the training
/// GEMM's 12 × 32 kernel (`GemmMicroKernels.wide`) with this target. Every output element is one lane's chain of
/// fused multiply-adds in depth order, so a token's result does not depend on which lane or
/// panel it is in, nor on how many tokens run together.
///
/// - `GemmMicroKernels.wide`: 24 accumulators of 16 lanes, 2 panel loads + 12 broadcasts per
///   24 FMAs; it fills AVX-512's 32 vector registers (27 live) and is bound by the FMA units.
/// - `tile12x16`: 12 accumulators, for a last panel of at most 16 tokens.
enum PrefillMicroKernels {
    /// Where a tile's results go: `out[t * stride + r]` for live token `t` and weight row `r`.
    struct Target: GemmTileSink {
        let out: UnsafeMutablePointer<Float>
        let stride: Int
        let liveRows: Int
        let liveTokens: Int

        /// Stores accumulator `v` (16 tokens from `firstToken`) of weight row `r`.
        @inline(__always)
        func put(_ r: Int, _ firstToken: Int, _ v: V16) {
            guard r < liveRows else { return }
            let count = min(16, liveTokens - firstToken)
            var p = out + firstToken * stride + r
            for lane in 0..<max(0, count) {
                p.pointee = v[lane]
                p += stride
            }
        }
    }

    /// 12 weight rows × a 16-token panel (`x`, `[depth][16]`).
    @inline(never)
    static func tile12x16(_ depth: Int, _ w: UnsafePointer<Float>, _ ws: Int, _ x: UnsafePointer<Float>,
                          _ target: Target) {
        var c0 = V16(), c1 = V16(), c2 = V16(), c3 = V16(), c4 = V16(), c5 = V16()
        var c6 = V16(), c7 = V16(), c8 = V16(), c9 = V16(), ca = V16(), cb = V16()
        let w0 = w, w1 = w + ws, w2 = w + 2 &* ws, w3 = w + 3 &* ws, w4 = w + 4 &* ws, w5 = w + 5 &* ws
        let w6 = w + 6 &* ws, w7 = w + 7 &* ws, w8 = w + 8 &* ws, w9 = w + 9 &* ws, wa = w + 10 &* ws, wb = w + 11 &* ws
        var b = x
        for p in 0..<depth {
            let b0 = load16(b)
            c0.addProduct(V16(repeating: w0[p]), b0); c1.addProduct(V16(repeating: w1[p]), b0)
            c2.addProduct(V16(repeating: w2[p]), b0); c3.addProduct(V16(repeating: w3[p]), b0)
            c4.addProduct(V16(repeating: w4[p]), b0); c5.addProduct(V16(repeating: w5[p]), b0)
            c6.addProduct(V16(repeating: w6[p]), b0); c7.addProduct(V16(repeating: w7[p]), b0)
            c8.addProduct(V16(repeating: w8[p]), b0); c9.addProduct(V16(repeating: w9[p]), b0)
            ca.addProduct(V16(repeating: wa[p]), b0); cb.addProduct(V16(repeating: wb[p]), b0)
            b += 16
        }
        target.put(0, 0, c0); target.put(1, 0, c1); target.put(2, 0, c2); target.put(3, 0, c3)
        target.put(4, 0, c4); target.put(5, 0, c5); target.put(6, 0, c6); target.put(7, 0, c7)
        target.put(8, 0, c8); target.put(9, 0, c9); target.put(10, 0, ca); target.put(11, 0, cb)
    }
}
