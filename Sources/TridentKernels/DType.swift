/// Element types of tensors, including GGML's block-quantized formats.
///
/// Block formats store `blockSize` consecutive elements of a row in `bytesPerBlock` bytes
/// (ggml layouts, little-endian):
/// - `q8_0`: f16 scale `d`, then 32 × int8 `q`; value = `d * q`.
/// - `q4_0`: f16 scale `d`, then 16 bytes; byte `j` holds element `j` (low nibble) and
///   element `j + 16` (high nibble); value = `d * (q - 8)`.
/// - `q4_1`: f16 scale `d`, f16 minimum `m`, then 16 bytes as in `q4_0`; value = `d * q + m`.
public enum DType: String, Sendable, CaseIterable, Codable {
    case f32, f16, bf16, q8_0, q4_0, q4_1

    /// Elements per block (1 for plain floating-point types).
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q8_0, .q4_0, .q4_1: return 32
        }
    }

    /// Bytes per block.
    public var bytesPerBlock: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q8_0: return 34
        case .q4_0: return 18
        case .q4_1: return 20
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
