/// A shaped, row-major weight tensor: float32 values this process owns, or a read-only view
/// of packed weights (quantized, half precision, or a memory-mapped file's bytes).
///
/// Kernels read every tensor through `matrix`, the 2-D view `[shape[0], product of the rest]`
/// (a vector `[n]` is the matrix `[1, n]`), so owned and viewed weights take the same path.
/// Owned tensors keep their storage in an `OwnedWeights`; views keep their owner (a mapping or
/// an `OwnedWeights`) alive through `WeightMatrix.owner`. Copying a `Tensor` shares the storage
/// (tied embeddings are one tensor used twice).
public struct Tensor: @unchecked Sendable {
    /// Dimensions, outermost first: `[rows, columns]` for a matrix, `[count]` for a vector.
    public let shape: [Int]
    /// The `[shape[0], product of the rest]` view the kernels read.
    public let matrix: WeightMatrix

    /// Float32 values, copied into storage this tensor owns.
    /// - Parameter values: row-major, `shape.reduce(1, *)` of them.
    public init(shape: [Int], values: [Float]) {
        precondition(!shape.isEmpty && shape.allSatisfy { $0 >= 0 }, "bad tensor shape \(shape)")
        let (rows, columns) = Tensor.matrixShape(shape)
        precondition(values.count == rows * columns, "\(values.count) values for shape \(shape)")
        self.shape = shape
        self.matrix = OwnedWeights(values: values, rows: rows, columns: columns, dtype: .f32).matrix
    }

    /// Float32 zeros of `shape`, in owned storage.
    public init(zeros shape: [Int]) {
        self.init(shape: shape, values: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    /// A view of `matrix` (any dtype; no copy), shape `[matrix.rows, matrix.columns]`.
    public init(_ matrix: WeightMatrix) {
        self.shape = [matrix.rows, matrix.columns]
        self.matrix = matrix
    }

    /// The `[rows, columns]` a shape is read as.
    static func matrixShape(_ shape: [Int]) -> (rows: Int, columns: Int) {
        shape.count == 1 ? (1, shape[0]) : (shape[0], shape.dropFirst().reduce(1, *))
    }

    /// Element type of the stored values.
    public var dtype: DType { matrix.dtype }
    /// Number of elements.
    public var count: Int { matrix.rows * matrix.columns }
    /// `shape[0]` (1 for a vector).
    public var rows: Int { matrix.rows }
    /// Elements per row (the vector's length for a vector).
    public var columns: Int { matrix.columns }

    /// The values as float32, read in place.
    /// - Precondition: `dtype == .f32` and rows are contiguous (no column slice).
    @inline(__always)
    public var floats: UnsafePointer<Float> {
        precondition(matrix.dtype == .f32 && (matrix.rows <= 1 || matrix.rowStride == matrix.columns * 4),
                     "tensor of \(matrix.dtype) is not contiguous float32")
        return matrix.base.assumingMemoryBound(to: Float.self)
    }

    /// Every element, dequantized to float32, row-major.
    public func toArray() -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { out, initialized in
            for r in 0 ..< matrix.rows { matrix.dequantizeRow(r, into: out.baseAddress! + r * matrix.columns) }
            initialized = count
        }
    }
}
