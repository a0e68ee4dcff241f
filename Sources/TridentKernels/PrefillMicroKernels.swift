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

    /// 12 weight rows (`a`: in place, or a packed `[depth][12]` tile) × a 16-token panel
    /// (`x`, `[depth][16]`).
    @inline(never)
    static func tile12x16<A: GemmRowSource>(_ depth: Int, _ a: A, _ x: UnsafePointer<Float>, _ target: Target) {
        var c0 = V16(), c1 = V16(), c2 = V16(), c3 = V16(), c4 = V16(), c5 = V16()
        var c6 = V16(), c7 = V16(), c8 = V16(), c9 = V16(), ca = V16(), cb = V16()
        var b = x
        for p in 0..<depth {
            let b0 = load16(b)
            c0.addProduct(V16(repeating: a.value(0, p, 12)), b0); c1.addProduct(V16(repeating: a.value(1, p, 12)), b0)
            c2.addProduct(V16(repeating: a.value(2, p, 12)), b0); c3.addProduct(V16(repeating: a.value(3, p, 12)), b0)
            c4.addProduct(V16(repeating: a.value(4, p, 12)), b0); c5.addProduct(V16(repeating: a.value(5, p, 12)), b0)
            c6.addProduct(V16(repeating: a.value(6, p, 12)), b0); c7.addProduct(V16(repeating: a.value(7, p, 12)), b0)
            c8.addProduct(V16(repeating: a.value(8, p, 12)), b0); c9.addProduct(V16(repeating: a.value(9, p, 12)), b0)
            ca.addProduct(V16(repeating: a.value(10, p, 12)), b0); cb.addProduct(V16(repeating: a.value(11, p, 12)), b0)
            b += 16
        }
        target.put(0, 0, c0); target.put(1, 0, c1); target.put(2, 0, c2); target.put(3, 0, c3)
        target.put(4, 0, c4); target.put(5, 0, c5); target.put(6, 0, c6); target.put(7, 0, c7)
        target.put(8, 0, c8); target.put(9, 0, c9); target.put(10, 0, ca); target.put(11, 0, cb)
    }
}
