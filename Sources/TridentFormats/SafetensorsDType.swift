import TridentKernels

/// A safetensors element type, spelled as in the JSON header (`"F32"`, `"BF16"`, ...).
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8"
    case u64 = "U64", u32 = "U32", u16 = "U16", u8 = "U8"
    case bool = "BOOL"
    case f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f64, .i64, .u64: return 8
        case .f32, .i32, .u32: return 4
        case .f16, .bf16, .i16, .u16: return 2
        case .i8, .u8, .bool, .f8e4m3, .f8e5m2: return 1
        }
    }

    /// The kernel element type, for the types Trident computes with; `nil` otherwise.
    public var dtype: DType? {
        switch self {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        default: return nil
        }
    }

    /// The safetensors type storing `dtype`, or `nil` for block-quantized types.
    public init?(_ dtype: DType) {
        switch dtype {
        case .f32: self = .f32
        case .f16: self = .f16
        case .bf16: self = .bf16
        default: return nil
        }
    }
}

/// One tensor of a safetensors file, validated against the file.
public struct SafetensorsTensorInfo: Sendable, Equatable {
    /// The tensor name (the JSON key).
    public let name: String
    /// The element type.
    public let dtype: SafetensorsDType
    /// Dimensions in row-major order, outermost first (PyTorch order: a linear layer's
    /// weight is `[out, in]`), unlike GGUF's `ne` order.
    public let shape: [Int]
    /// Absolute offset of the data in the file.
    public let fileOffset: Int
    /// Size of the data in bytes (`elementCount * dtype.size`).
    public let byteCount: Int

    /// The number of elements (product of `shape`).
    public var elementCount: Int { shape.reduce(1, *) }
    /// The data's absolute byte range in the file.
    public var fileRange: Range<Int> { fileOffset ..< fileOffset + byteCount }
}
