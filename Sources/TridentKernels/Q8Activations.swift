/// Activation rows rounded to 8 bits per block of 32, as llama.cpp's q8_0 does
/// (d = max|x| / 127, q = round(x / d), rounded half away from zero) but with a float32 scale,
/// laid out for the integer kernels of `CTridentQ8` (see CTridentQ8.h):
/// - `quants`      `[tokens, blocks * 32]` int8
/// - `scales`      `[tokens, blocks * 8]`  each block's d, repeated for its 8 int32 lanes
/// - `corrections` `[tokens, blocks * 8]`  −128 · (sum of the 4 quants of each int32 lane),
///   the start value that cancels the +128 bias the VNNI kernels add to the weights.
///
/// Accuracy: rounding costs SmolLM2-135M Q8_0 0.60% of perplexity (LICENSE text, context
/// 128), above the 0.1% contract, so `ActivationPrecision.current` keeps float32 by default.
struct Q8Activations {
    let quants: UnsafeMutablePointer<Int8>
    let scales: UnsafeMutablePointer<Float>
    let corrections: UnsafeMutablePointer<Int32>
    /// Blocks of 32 per token.
    let blocks: Int

    /// Bytes one token needs (quants, scales, corrections).
    static func bytesPerToken(blocks: Int) -> Int { blocks * (32 + 8 * 4 + 8 * 4) }

    /// Runs `body` with buffers for `tokens` rows of `blocks` blocks on the stack when small
    /// (the decode case; no heap allocation per token), else in one temporary allocation.
    static func withBuffers<R>(tokens: Int, blocks: Int, _ body: (Q8Activations) -> R) -> R {
        let perToken = bytesPerToken(blocks: blocks)
        return withUnsafeTemporaryAllocation(byteCount: max(tokens * perToken, 64), alignment: 64) { raw in
            let base = raw.baseAddress!
            let floats = tokens * blocks * 8
            let view = Q8Activations(
                quants: (base + 2 * floats * 4).bindMemory(to: Int8.self, capacity: tokens * blocks * 32),
                scales: base.bindMemory(to: Float.self, capacity: floats),
                corrections: (base + floats * 4).bindMemory(to: Int32.self, capacity: floats),
                blocks: blocks)
            return body(view)
        }
    }

    /// The view of token `t` alone.
    func token(_ t: Int) -> Q8Activations {
        Q8Activations(quants: quants + t * blocks * 32, scales: scales + t * blocks * 8,
                      corrections: corrections + t * blocks * 8, blocks: blocks)
    }

    /// Quantizes `x` (`[blocks * 32]` floats) into token `t`.
    func quantize(_ x: UnsafePointer<Float>, token t: Int) {
        let view = token(t)
        for b in 0..<blocks { view.quantizeBlock(x + b * 32, b) }
    }

    /// Block `b` of this token from 32 floats.
    @inline(__always)
    private func quantizeBlock(_ x: UnsafePointer<Float>, _ b: Int) {
        var m = SIMD8<Float>(), zero = SIMD8<Float>()
        for i in stride(from: 0, to: 32, by: 8) {
            let v = load8(x + i)
            m = pointwiseMax(m, pointwiseMax(v, -v))
            zero += v * 0  // NaN if any value is NaN or infinite (pointwiseMax skips NaN)
        }
        let amax = m.max()
        if !(zero.sum() == 0) || !amax.isFinite {  // NaN or infinity: the products are NaN, as with float32 activations
            (quants + b * 32).update(repeating: 0, count: 32)
            (scales + b * 8).update(repeating: .nan, count: 8)
            (corrections + b * 8).update(repeating: 0, count: 8)
            return
        }
        let d = amax / 127
        let id: Float = d != 0 ? 1 / d : 0
        let q = quants + b * 32
        for i in 0..<32 { q[i] = Int8((x[i] * id).rounded()) }
        let s = scales + b * 8, c = corrections + b * 8
        for j in 0..<8 {
            s[j] = d
            c[j] = -128 * (Int32(q[4 * j]) + Int32(q[4 * j + 1]) + Int32(q[4 * j + 2]) + Int32(q[4 * j + 3]))
        }
    }
}
