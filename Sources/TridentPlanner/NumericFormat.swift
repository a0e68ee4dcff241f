import TridentKernels

/// How numbers are stored, as far as the planner cares: bytes per element, including the
/// per-block scale overhead of GGML's quantized formats.
///
/// Quantized formats store `blockSize` consecutive elements in `bytesPerBlock` bytes:
/// `q4_1` 20 bytes per 32 weights (0.625 B/weight), `q4_0` 18/32, `q8_0` 34/32, `q4_k` 144/256.
public enum NumericFormat: String, Sendable, CaseIterable, Codable {
    case f32, f16, bf16, q8_0, q4_0, q4_1
    case q5_0, q5_1, iq4_nl
    case q2_K = "q2_k", q3_K = "q3_k", q4_K = "q4_k", q5_K = "q5_k", q6_K = "q6_k"
    case iq4_xs

    /// The kernels' element type with the same layout (the one source of block sizes).
    public var dtype: DType { DType(rawValue: rawValue)! }

    /// Elements per block (1 for plain floating-point formats).
    public var blockSize: Int { dtype.blockSize }

    /// Bytes per block.
    public var bytesPerBlock: Int { dtype.bytesPerBlock }

    /// Average bytes per element, e.g. 0.625 for `q4_1`.
    public var bytesPerElement: Double { Double(bytesPerBlock) / Double(blockSize) }

    /// Bytes for one row of `count` elements, rounding a partial block up to a whole one.
    public func rowBytes(_ count: Int) -> Double {
        precondition(count >= 0, "negative element count \(count)")
        let blocks = (count + blockSize - 1) / blockSize
        return Double(blocks * bytesPerBlock)
    }

    /// Bytes for a `[rows, columns]` matrix stored row by row (blocks run along a row).
    public func matrixBytes(rows: Int, columns: Int) -> Double {
        Double(rows) * rowBytes(columns)
    }
}
