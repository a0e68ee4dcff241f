/// Element types of tensors, including GGML's block-quantized formats.
///
/// Block formats store `blockSize` consecutive elements of a row in `bytesPerBlock` bytes
/// (ggml layouts, little-endian):
/// - `q8_0`: f16 scale `d`, then 32 × int8 `q`; value = `d * q`.
/// - `q4_0`: f16 scale `d`, then 16 bytes; byte `j` holds element `j` (low nibble) and
///   element `j + 16` (high nibble); value = `d * (q - 8)`.
/// - `q4_1`: f16 scale `d`, f16 minimum `m`, then 16 bytes as in `q4_0`; value = `d * q + m`.
/// - `q5_0`, `q5_1`: as `q4_0` / `q4_1` with a fifth bit per element in a 32-bit word after
///   the scales (bit `j` for element `j`); values `d * (q - 16)` and `d * q + m`.
/// - `iq4_nl`: f16 `d`, 16 nibble bytes as in `q4_0`; value = `d * table[q]` (a fixed
///   non-linear 16-entry table).
/// - K-quants (`q2_K` ... `q6_K`) and `iq4_xs`: 256-element super-blocks of 16 or 8
///   sub-blocks, each with its own small integer scale (and minimum) under f16 super-scales;
///   `KQuantLayout` spells out each layout.
public enum DType: String, Sendable, CaseIterable, Codable {
    case f32, f16, bf16, q8_0, q4_0, q4_1
    case q5_0, q5_1, iq4_nl
    case q2_K = "q2_k", q3_K = "q3_k", q4_K = "q4_k", q5_K = "q5_k", q6_K = "q6_k"
    case iq4_xs

    /// Elements per block (1 for plain floating-point types).
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .iq4_nl: return 32
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .iq4_xs: return 256
        }
    }

    /// Bytes per block.
    public var bytesPerBlock: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q8_0: return 34
        case .q4_0, .iq4_nl: return 18
        case .q4_1: return 20
        case .q5_0: return 22
        case .q5_1: return 24
        case .q2_K: return 84
        case .q3_K: return 110
        case .q4_K: return 144
        case .q5_K: return 176
        case .q6_K: return 210
        case .iq4_xs: return 136
        }
    }

    /// Whether this is a block-quantized type.
    public var isQuantized: Bool { blockSize > 1 }

    /// Bytes needed for a row of `count` elements; `count` must be a multiple of `blockSize`.
    public func rowBytes(_ count: Int) -> Int {
        precondition(count % blockSize == 0, "\(count) elements is not a whole number of \(self) blocks")
        return count / blockSize * bytesPerBlock
    }
}
