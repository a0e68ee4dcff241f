/// Training forward of a linear layer `y = x · Wᵀ` with f32 master weights, on the training
/// GEMM (`BlockedProduct`) rather than the inference kernels (which expand quantized rows and
/// are tuned for few tokens): `W` `[outFeatures, inFeatures]` row-major is read as the
/// transposed right operand, packed once per tile.
public enum LinearForward {
    /// - Parameters:
    ///   - x: `[tokens, inFeatures]` row-major.
    ///   - weight: `[outFeatures, inFeatures]` row-major.
    ///   - y: `[tokens, outFeatures]` row-major, overwritten.
    public static func forward(input x: UnsafePointer<Float>, weight: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>,
                               tokens: Int, inFeatures: Int, outFeatures: Int, pool: ThreadPool) {
        precondition(tokens >= 0 && inFeatures >= 0 && outFeatures >= 0, "linear forward: negative size")
        let a = StridedMatrix(base: x, rowStride: inFeatures, columnStride: 1)        // [tokens, in]
        let b = StridedMatrix(base: weight, rowStride: 1, columnStride: inFeatures)   // Wᵀ: [in, out]
        BlockedProduct.multiply(a: a, b: b, c: y, ldc: outFeatures, m: tokens, n: outFeatures, k: inFeatures,
                                accumulate: false, pool: pool)
    }
}
