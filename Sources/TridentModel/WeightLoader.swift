import TridentFormats
import TridentKernels

/// Reads a model's tensors by role (`ModelTensor`), checking shape and type, as views into a
/// mapping or as copies of just the slice a rank needs, whatever the file format.
///
/// - `copySlices: false` with a mapped source: whole-tensor views into the mapping (no copy; one rank).
/// - `copySlices: true`: sliced tensors are read with `pread` (not through the mapping) into
///   allocations the weights own; unsliced ones stay views when the source is mapped.
/// - A `.ggufReader` source: every tensor is read into owned memory; no mapping is used at all.
/// - Tensors stored transposed (Hugging Face GPT-2 `Conv1D`) are always copied, transposed.
/// - With `packRowGroups`, Q4_0/Q4_1/Q8_0 matrices of whole 16-row groups are repacked for the
///   16-lane decode loops (`WeightMatrix.packedInRowGroups`, same size); a mapped view's pages
///   are then released.
struct WeightLoader {
    let source: WeightSource
    let naming: TensorNaming
    let copySlices: Bool
    /// `RowGroups.enabledByDefault`: on CPUs with AVX-512 and float32 activations.
    var packRowGroups = RowGroups.enabledByDefault

    init(_ source: WeightSource, naming: TensorNaming, copySlices: Bool) {
        self.source = source
        self.naming = naming
        self.copySlices = copySlices || !source.isMapped
    }

    /// Whether the file holds `tensor`.
    func contains(_ tensor: ModelTensor) -> Bool { source.entry(naming.name(tensor)) != nil }

    private func entry(_ tensor: ModelTensor) throws -> WeightSource.Entry {
        let name = naming.name(tensor)
        guard let found = source.entry(name) else { throw ModelLoadingError.missingTensor(name) }
        return found
    }

    private func kernelType(_ entry: WeightSource.Entry) throws -> DType {
        guard let dtype = entry.dtype else {
            throw ModelLoadingError.unsupportedTensorType(tensor: entry.name, type: entry.typeName)
        }
        return dtype
    }

    /// Elements `range` (all by default) of the 1-D tensor `tensor` of `count` elements, as float32.
    func vector(_ tensor: ModelTensor, count: Int, range: Range<Int>? = nil) throws -> [Float] {
        let entry = try entry(tensor)
        guard entry.elementCount == count, entry.rows == 1 else {
            throw ModelLoadingError.wrongShape(tensor: entry.name, expected: [count], found: entry.shape)
        }
        let dtype = try kernelType(entry)
        let range = range ?? 0 ..< count
        let row: WeightMatrix
        if let view = try alignedView(entry, dtype: dtype) {
            row = view.columns(0 ..< count)
        } else {
            row = try OwnedWeights(rows: 1, columns: count, dtype: dtype) { buffer in
                try source.read(entry, rows: 0 ..< 1, columns: 0 ..< count, into: buffer)
            }.matrix
        }
        var values = [Float](repeating: 0, count: count)
        values.withUnsafeMutableBufferPointer { row.dequantizeRow(0, into: $0.baseAddress!) }
        return Array(values[range])
    }

    /// The `[rows, columns]` slice of the row-major matrix `tensor`, whose full shape must be
    /// `shape` (stored `[shape.columns, shape.rows]` when the naming says it is transposed).
    func matrix(_ tensor: ModelTensor, shape: (rows: Int, columns: Int),
                rows: Range<Int>? = nil, columns: Range<Int>? = nil) throws -> WeightMatrix {
        let entry = try entry(tensor)
        let transposed = naming.isTransposed(tensor)
        let stored = transposed ? [shape.columns, shape.rows] : [shape.rows, shape.columns]
        guard entry.shape == stored else {
            throw ModelLoadingError.wrongShape(tensor: entry.name, expected: stored, found: entry.shape)
        }
        let dtype = try kernelType(entry)
        let rowRange = rows ?? 0 ..< shape.rows
        let columnRange = columns ?? 0 ..< shape.columns
        if transposed {
            return try transposedSlice(entry, dtype: dtype, rows: rowRange, columns: columnRange)
        }
        if columnRange.lowerBound % dtype.blockSize != 0 || columnRange.upperBound % dtype.blockSize != 0 {
            // A cut inside a quantization block (e.g. head dim 16 with 32-element blocks):
            // this rank's slice is kept dequantized to f32, so any split still works.
            return try floatSlice(entry, dtype: dtype, rows: rowRange, columns: columnRange)
        }
        return try plainSlice(entry, dtype: dtype, rows: rowRange, columns: columnRange)
    }

    /// The slice as stored: a view when allowed, else read straight from the file into the
    /// final allocation (held once; the file's pages never enter the resident set).
    private func plainSlice(_ entry: WeightSource.Entry, dtype: DType, rows: Range<Int>,
                            columns: Range<Int>) throws -> WeightMatrix {
        let sliced = rows.count != entry.rows || columns.count != entry.columns
        if !copySlices || !sliced, let view = try alignedView(entry, dtype: dtype) {
            let slice = view.rows(rows).columns(columns)
            guard packRowGroups && slice.canPackInRowGroups else { return slice }
            let packed = slice.packedInRowGroups()
            MappedPages.release(slice)
            return packed
        }
        let owned = try OwnedWeights(rows: rows.count, columns: columns.count, dtype: dtype) { buffer in
            try source.read(entry, rows: rows, columns: columns, into: buffer)
        }.matrix
        return packRowGroups ? owned.packedInRowGroups() : owned
    }

    /// The whole tensor as a view of the mapping, or nil when there is no mapping or the data
    /// does not start on an element boundary (safetensors does not promise alignment; such a
    /// tensor is copied into aligned memory instead).
    private func alignedView(_ entry: WeightSource.Entry, dtype: DType) throws -> WeightMatrix? {
        guard source.isMapped else { return nil }
        let view = try source.view(entry)
        let alignment = dtype.isQuantized ? 1 : dtype.bytesPerBlock
        return Int(bitPattern: view.base) % alignment == 0 ? view : nil
    }

    /// The exact `[rows, columns]` slice as f32, read through the enclosing whole blocks.
    private func floatSlice(_ entry: WeightSource.Entry, dtype: DType, rows: Range<Int>,
                            columns: Range<Int>) throws -> WeightMatrix {
        let block = dtype.blockSize
        let outer = (columns.lowerBound / block * block) ..< ((columns.upperBound + block - 1) / block * block)
        let enclosing = try plainSlice(entry, dtype: dtype, rows: rows, columns: outer)
        var values = [Float](repeating: 0, count: rows.count * columns.count)
        var row = [Float](repeating: 0, count: outer.count)
        let skip = columns.lowerBound - outer.lowerBound
        for r in 0 ..< rows.count {
            row.withUnsafeMutableBufferPointer { enclosing.dequantizeRow(r, into: $0.baseAddress!) }
            for c in 0 ..< columns.count { values[r * columns.count + c] = row[skip + c] }
        }
        return OwnedWeights(values: values, rows: rows.count, columns: columns.count, dtype: .f32).matrix
    }

    /// The slice of a matrix stored as its transpose: the stored `[columns, rows]` block is read
    /// and transposed element by element into an owned matrix of the same type (F32/F16/BF16).
    private func transposedSlice(_ entry: WeightSource.Entry, dtype: DType, rows: Range<Int>,
                                 columns: Range<Int>) throws -> WeightMatrix {
        guard !dtype.isQuantized else {
            throw ModelLoadingError.unsupportedTensorType(tensor: entry.name, type: "\(entry.typeName) stored transposed")
        }
        let stored = try plainSlice(entry, dtype: dtype, rows: columns, columns: rows)   // [columns, rows]
        let size = dtype.bytesPerBlock
        return OwnedWeights(rows: rows.count, columns: columns.count, dtype: dtype) { (out: UnsafeMutableRawBufferPointer) in
            for r in 0 ..< rows.count {
                for c in 0 ..< columns.count {
                    (out.baseAddress! + (r * columns.count + c) * size)
                        .copyMemory(from: stored.rowPointer(c) + r * size, byteCount: size)
                }
            }
        }.matrix
    }
}
