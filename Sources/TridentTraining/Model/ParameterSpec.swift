import TridentModel

/// One tensor of a model as one tensor-parallel rank holds it, before its values exist:
/// its GGUF name, the full shape, this rank's rows and columns of it, and how it is
/// initialised and counted.
public struct ParameterSpec: Sendable, Equatable {
    /// What a tensor is, for random initialisation, weight decay and the gradient norm.
    public enum Role: Sendable, Equatable {
        /// A weight matrix or embedding table (normal init; decayed). `outputProjection`:
        /// attention output or MLP down (std scaled by 1/sqrt(2 x layers)).
        case matrix(outputProjection: Bool)
        /// A norm's scale (ones; not decayed).
        case normWeight
        /// A bias or a norm's shift (zeros; not decayed).
        case bias
    }

    /// The GGUF tensor name (`blk.3.attn_q.weight`).
    public let name: String
    /// Full shape, row-major: `[rows, columns]` or `[n]`.
    public let globalShape: [Int]
    /// This rank's rows (of a matrix; the elements of a vector) and columns.
    public let rows: Range<Int>
    public let columns: Range<Int>
    public let role: Role
    /// For K/V projections: rows per KV head, so the parameter can be split into runs of heads
    /// held by one rank or several (nil otherwise).
    public let rowsPerKVHead: Int?

    public init(name: String, globalShape: [Int], rows: Range<Int>? = nil, columns: Range<Int>? = nil, role: Role,
                rowsPerKVHead: Int? = nil) {
        self.name = name
        self.globalShape = globalShape
        let isVector = globalShape.count == 1
        self.rows = rows ?? 0 ..< globalShape[0]
        self.columns = columns ?? 0 ..< (isVector ? 1 : globalShape[1])
        self.role = role
        self.rowsPerKVHead = rowsPerKVHead
    }

    /// Whether the full tensor is a vector.
    public var isVector: Bool { globalShape.count == 1 }
    /// This rank's shape.
    public var localShape: [Int] { isVector ? [rows.count] : [rows.count, columns.count] }
    /// Global rows of the full tensor.
    public var globalRows: Int { globalShape[0] }
    /// Global columns (1 for a vector).
    public var globalColumns: Int { isVector ? 1 : globalShape[1] }
    /// Whether this rank holds only part of the tensor.
    public var isSharded: Bool { rows.count != globalRows || columns.count != globalColumns }
    /// Whether AdamW's weight decay applies.
    public var decay: Bool { if case .matrix = role { return true } else { return false } }
}
