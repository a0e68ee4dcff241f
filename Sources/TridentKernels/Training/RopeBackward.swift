/// Backward of `VectorKernels.rope` (either pairing, angle `positions[t] · base^(−2i/headDim)`
/// scaled by `scaling`, computed in Double, as the forward). The rotation is orthogonal, so the gradient is the
/// inverse rotation (angle negated): `(da, db) = (g0·cos + g1·sin, −g0·sin + g1·cos)`.
public enum RopeBackward {
    /// In place on `gradient` `[tokens, heads, headDim]` (the gradient w.r.t. the rotated
    /// output becomes the gradient w.r.t. the input); `positions` `[tokens]`.
    public static func backward(_ gradient: UnsafeMutablePointer<Float>, tokens: Int, heads: Int, headDim: Int,
                                positions: UnsafePointer<Int>, base: Float, pairing: RopePairing = .adjacent,
                                scaling: RopeScaling = .none) {
        VectorKernels.rotatePairs(gradient, tokens: tokens, heads: heads, headDim: headDim, positions: positions,
                                  base: base, sineSign: -1, pairing: pairing, scaling: scaling)
    }
}
