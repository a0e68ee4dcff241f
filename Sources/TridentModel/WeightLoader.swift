import TridentFormats
import TridentKernels

/// Reads named tensors of a GGUF model, checking shape and type, as views into the file's
/// mapping or as copies of just the slice a rank needs.
///
/// Sources:
/// - `.mapped(file, copySlices: false)`: whole-tensor views into the mapping (no copy; one rank).
/// - `.mapped(file, copySlices: true)`: sliced tensors are read (with `pread`, not through the
///   mapping) into allocations the weights own; unsliced ones stay views.
/// - `.reader(reader)`: every tensor is read into owned memory; no mapping is used at all.
struct WeightLoader {
    enum Source {
        case mapped(GGUFFile, copySlices: Bool)
        case reader(GGUFTensorReader)
    }

    let source: Source
    private let reader: GGUFTensorReader?

    init(_ source: Source) {
        self.source = source
        switch source {
        case .mapped(let file, let copySlices): reader = copySlices ? GGUFTensorReader(file) : nil
        case .reader(let r): reader = r
        }
    }

    private func info(_ name: String) throws -> GGUFTensorInfo {
        let found: GGUFTensorInfo?
        switch source {
        case .mapped(let file, _): found = file.tensor(named: name)
        case .reader(let r): found = r.tensor(named: name)
        }
        guard let found else { throw ModelLoadingError.missingTensor(name) }
        return found
    }

    /// The 1-D tensor `name` of `count` elements, as float32.
    func vector(_ name: String, count: Int) throws -> [Float] {
        let info = try info(name)
        guard info.elementCount == count else {
            throw ModelLoadingError.wrongShape(tensor: name, expected: [count], found: info.shape)
        }
        if case .mapped(let file, _) = source { return try file.floats(named: name) }
        guard let dtype = info.type.dtype else {
            throw ModelLoadingError.unsupportedTensorType(tensor: name, type: "\(info.type)")
        }
        let packed = try OwnedWeights(rows: 1, columns: count, dtype: dtype) { (buffer) throws(GGUFError) in
            try reader!.readSlice(of: info, rows: 0 ..< 1, columns: 0 ..< count, into: buffer)
        }
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            if count > 0 { packed.matrix.dequantizeRow(0, into: out.baseAddress!) }
            initialized = count
        }
    }

    /// The `[rows, columns]` slice of the row-major matrix `name`, whose full shape must be
    /// `shape` (GGUF `ne = [columns, rows]`).
    func matrix(_ name: String, shape: (rows: Int, columns: Int),
                rows: Range<Int>? = nil, columns: Range<Int>? = nil) throws -> WeightMatrix {
        let info = try info(name)
        guard info.shape == [shape.columns, shape.rows] else {
            throw ModelLoadingError.wrongShape(tensor: name, expected: [shape.columns, shape.rows], found: info.shape)
        }
        guard let dtype = info.type.dtype else {
            throw ModelLoadingError.unsupportedTensorType(tensor: name, type: "\(info.type)")
        }
        let rowRange = rows ?? 0 ..< shape.rows
        let columnRange = columns ?? 0 ..< shape.columns
        if columnRange.lowerBound % dtype.blockSize != 0 || columnRange.upperBound % dtype.blockSize != 0 {
            // A cut inside a quantization block (e.g. head dim 16 with 32-element blocks):
            // this rank's slice is kept dequantized to f32, so any split still works.
            return try floatSlice(name, info: info, dtype: dtype, rows: rowRange, columns: columnRange)
        }
        let sliced = rowRange.count != shape.rows || columnRange.count != shape.columns
        if case .mapped(let file, _) = source, reader == nil || !sliced {
            return try file.matrix(named: name).rows(rowRange).columns(columnRange)
        }
        // Straight from the file into the final allocation: the slice is held once, and the
        // file's pages never enter this process's resident set.
        let owned = try OwnedWeights(rows: rowRange.count, columns: columnRange.count, dtype: dtype) {
            (buffer) throws(GGUFError) in
            try reader!.readSlice(of: info, rows: rowRange, columns: columnRange, into: buffer)
        }
        return owned.matrix
    }

    /// The exact `[rows, columns]` slice as f32, read through the enclosing whole blocks.
    private func floatSlice(_ name: String, info: GGUFTensorInfo, dtype: DType,
                            rows: Range<Int>, columns: Range<Int>) throws -> WeightMatrix {
        let block = dtype.blockSize
        let outer = (columns.lowerBound / block * block) ..< ((columns.upperBound + block - 1) / block * block)
        let enclosing: WeightMatrix
        if case .mapped(let file, _) = source, reader == nil {
            enclosing = try file.matrix(named: name).rows(rows).columns(outer)
        } else {
            enclosing = try OwnedWeights(rows: rows.count, columns: outer.count, dtype: dtype) {
                (buffer) throws(GGUFError) in
                try reader!.readSlice(of: info, rows: rows, columns: outer, into: buffer)
            }.matrix
        }
        var values = [Float](repeating: 0, count: rows.count * columns.count)
        var row = [Float](repeating: 0, count: outer.count)
        let skip = columns.lowerBound - outer.lowerBound
        for r in 0 ..< rows.count {
            row.withUnsafeMutableBufferPointer { enclosing.dequantizeRow(r, into: $0.baseAddress!) }
            for c in 0 ..< columns.count { values[r * columns.count + c] = row[skip + c] }
        }
        return OwnedWeights(values: values, rows: rows.count, columns: columns.count, dtype: .f32).matrix
    }
}
