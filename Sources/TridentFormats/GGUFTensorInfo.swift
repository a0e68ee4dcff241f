/// One tensor's entry in a GGUF file's tensor table, already validated against the file.
public struct GGUFTensorInfo: Sendable, Equatable {
    /// The tensor name, e.g. `blk.0.attn_q.weight`.
    public let name: String
    /// Dimensions in ggml `ne` order (fastest-varying first): a matrix with `ne = [n_in, n_out]`
    /// is stored as `n_out` rows of `n_in` elements.
    public let shape: [Int]
    /// The element type.
    public let type: GGMLType
    /// Offset of the data from the start of the file's data section (as stored in the file).
    public let offset: Int
    /// Absolute offset of the data in the file.
    public let fileOffset: Int
    /// Size of the data in bytes.
    public let byteCount: Int

    /// The number of elements (product of `shape`).
    public var elementCount: Int { shape.reduce(1, *) }

    /// The data's absolute byte range in the file.
    public var fileRange: Range<Int> { fileOffset ..< fileOffset + byteCount }
}
