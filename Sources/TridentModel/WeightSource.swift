import TridentFormats
import TridentKernels

/// Where a model's named tensors come from, with one way to ask for them whatever the format:
/// a mapped GGUF file, a GGUF tensor table read with `pread` (no mapping), or a Hugging Face
/// directory of safetensors shards.
enum WeightSource: Sendable {
    case gguf(GGUFFile)
    case ggufReader(GGUFTensorReader)
    case huggingFace(HuggingFaceDirectory)

    /// One tensor as the source stores it.
    struct Entry {
        enum Handle {
            case gguf(GGUFTensorInfo)
            case safetensors(SafetensorsFile, SafetensorsTensorInfo)
        }
        let name: String
        /// Row-major, outermost first: `[rows, columns]` for a matrix (GGUF `ne` reversed).
        let shape: [Int]
        /// The kernel type, nil when Trident cannot compute with the stored type.
        let dtype: DType?
        /// The stored type as the format spells it (for messages).
        let typeName: String
        let handle: Handle

        var elementCount: Int { shape.reduce(1, *) }
        /// The tensor as a matrix: its last dimension is the columns, the rest the rows.
        var columns: Int { shape.last ?? 1 }
        var rows: Int { elementCount / max(columns, 1) }
    }

    /// The tensor `name`, or nil.
    func entry(_ name: String) -> Entry? {
        switch self {
        case .gguf(let file): return file.tensor(named: name).map(Self.entry)
        case .ggufReader(let reader): return reader.tensor(named: name).map(Self.entry)
        case .huggingFace(let directory):
            return directory.tensor(named: name).map { file, info in
                Entry(name: name, shape: info.shape, dtype: info.dtype.dtype, typeName: info.dtype.rawValue,
                      handle: .safetensors(file, info))
            }
        }
    }

    private static func entry(_ info: GGUFTensorInfo) -> Entry {
        var shape = Array(info.shape.reversed().drop { $0 == 1 })
        if shape.isEmpty { shape = [1] }
        return Entry(name: info.name, shape: shape, dtype: info.type.dtype, typeName: "\(info.type)", handle: .gguf(info))
    }

    /// Whether whole-tensor views of a mapping are available (not for a `pread` reader).
    var isMapped: Bool {
        if case .ggufReader = self { return false }
        return true
    }

    /// The whole tensor as a `[rows, columns]` view of the mapping (no copy).
    /// - Precondition: `isMapped`, and `entry` has a kernel type.
    func view(_ entry: Entry) throws -> WeightMatrix {
        switch (self, entry.handle) {
        case (.gguf(let file), .gguf):
            return try file.matrix(named: entry.name)
        case (.huggingFace, .safetensors(let file, _)):
            let whole = try file.matrix(named: entry.name)
            return WeightMatrix(base: whole.base, rows: entry.rows, columns: entry.columns, dtype: whole.dtype,
                                owner: whole.owner)
        default:
            preconditionFailure("no mapping for tensor '\(entry.name)'")
        }
    }

    /// Copies the `[rows, columns]` slice of `entry` (packed rows of its type) into `buffer`
    /// with `pread`; columns on block boundaries.
    func read(_ entry: Entry, rows: Range<Int>, columns: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws {
        switch (self, entry.handle) {
        case (.gguf(let file), .gguf(let info)):
            try GGUFTensorReader(file).readSlice(of: info, rows: rows, columns: columns, into: buffer)
        case (.ggufReader(let reader), .gguf(let info)):
            try reader.readSlice(of: info, rows: rows, columns: columns, into: buffer)
        case (.huggingFace, .safetensors(let file, let info)):
            try file.readSlice(of: info, rows: rows, columns: columns, into: buffer)
        default:
            preconditionFailure("tensor '\(entry.name)' does not belong to this source")
        }
    }
}
