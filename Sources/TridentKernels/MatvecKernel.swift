import Foundation

/// Which inner loops the matrix-vector (decode) product uses. Every choice computes the same
/// float32-activation dot products; they differ in vector width and so in speed.
public enum MatvecKernel: String, Sendable, CaseIterable {
    /// 8 float lanes (AVX2-sized; portable).
    case narrow
    /// 16 float lanes with two rows per pass (AVX-512; on other CPUs LLVM splits the vectors).
    case wide

    /// The kernel for this process: `wide` on CPUs with AVX-512F, else `narrow`.
    /// `TRIDENT_MATVEC_KERNEL=narrow|wide` overrides it (to compare kernels on one machine).
    public static let current: MatvecKernel = {
        if let forced = ProcessInfo.processInfo.environment["TRIDENT_MATVEC_KERNEL"],
           let kernel = MatvecKernel(rawValue: forced) {
            return kernel
        }
        return CPUFeatures.hasAVX512 ? .wide : .narrow
    }()

    /// Whether `wide` has its own loop for `dtype` (others fall back to the narrow loop).
    public static func hasWideLoop(_ dtype: DType) -> Bool {
        switch dtype {
        case .f32, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .iq4_nl: return true
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .iq4_xs: return true
        case .f16, .bf16: return false
        }
    }
}

/// Rows `range` of a matrix-vector product with the 16-lane loops (`MatvecKernel.wide`);
/// returns false, writing nothing, for a dtype without a wide loop.
/// - Parameters: `x` `[columns]`, `sums` `[columns / 32]` block sums of `x` (q4 types),
///   `out` `[w.rows]` (only `range` is written). Types beyond these four: `RowDot.wideBlockRows`.
func matvecRowsWide(_ w: WeightMatrix, _ range: Range<Int>, _ x: UnsafePointer<Float>,
                    _ sums: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) -> Bool {
    let blocks = w.columns / 32
    let stride = w.rowStride
    var r = range.lowerBound
    switch w.dtype {
    case .f32:
        for r in range { out[r] = RowDot.f32Wide(w.rowPointer(r).assumingMemoryBound(to: Float.self), x, w.columns) }
        return true
    case .q4_1:
        while r + 2 <= range.upperBound {
            let row = w.rowPointer(r)
            (out[r], out[r + 1]) = RowDot.q4_1Pair(row, row + stride, x, sums, blocks)
            r += 2
        }
        if r < range.upperBound { out[r] = RowDot.q4_1Wide(w.rowPointer(r), x, sums, blocks) }
    case .q4_0:
        while r + 2 <= range.upperBound {
            let row = w.rowPointer(r)
            (out[r], out[r + 1]) = RowDot.q4_0Pair(row, row + stride, x, sums, blocks)
            r += 2
        }
        if r < range.upperBound { out[r] = RowDot.q4_0Wide(w.rowPointer(r), x, sums, blocks) }
    case .q8_0:
        while r + 2 <= range.upperBound {
            let row = w.rowPointer(r)
            (out[r], out[r + 1]) = RowDot.q8_0Pair(row, row + stride, x, blocks)
            r += 2
        }
        if r < range.upperBound { out[r] = RowDot.q8_0Wide(w.rowPointer(r), x, blocks) }
    default:
        return RowDot.wideBlockRows(w, range, x, sums, out)
    }
    return true
}
