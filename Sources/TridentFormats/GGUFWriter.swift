import TridentKernels

/// Builds a GGUF version 3 file from ordered metadata and tensors.
///
/// Tensor data is laid out in the order tensors were added, each at an offset aligned to
/// `alignment`. Inputs are checked with preconditions (programmer errors): unique keys and
/// names, 1...4 dimensions, and a byte count matching shape and type.
///
/// ```swift
/// var writer = GGUFWriter()
/// writer.add("general.architecture", .string("llama"))
/// writer.addTensor(name: "output_norm.weight", shape: [64], type: .f32, bytes: normBytes)
/// try writer.write(to: "model.gguf")
/// ```
public struct GGUFWriter {
    /// Alignment of tensor data (written as `general.alignment` when it is not 32).
    public let alignment: Int
    private var entries: [(key: String, value: GGUFValue)] = []
    private var tensors: [PendingTensor] = []

    private struct PendingTensor {
        var name: String
        var shape: [Int]
        var type: GGMLType
        var payload: Payload
        var byteCount: Int
    }

    private enum Payload {
        case bytes([UInt8])
        case matrix(WeightMatrix)
    }

    /// - Parameter alignment: a power of two, at least 1 (GGUF's default is 32).
    public init(alignment: Int = 32) {
        precondition(alignment > 0 && alignment & (alignment - 1) == 0, "alignment \(alignment) is not a power of two")
        self.alignment = alignment
        if alignment != GGUFParser.defaultAlignment { add("general.alignment", .uint32(UInt32(alignment))) }
    }

    /// Appends a metadata pair; `key` must not have been added before.
    public mutating func add(_ key: String, _ value: GGUFValue) {
        precondition(!entries.contains { $0.key == key }, "metadata key '\(key)' added twice")
        entries.append((key, value))
    }

    /// Appends a tensor with raw `bytes` in `type`'s layout.
    /// - Parameter shape: ggml `ne` order (for a matrix: `[columns, rows]`), 1...4 dimensions.
    public mutating func addTensor(name: String, shape: [Int], type: GGMLType, bytes: [UInt8]) {
        let count = checkedByteCount(name: name, shape: shape, type: type)
        precondition(bytes.count == count, "tensor '\(name)': \(bytes.count) bytes given, \(shape) \(type) needs \(count)")
        tensors.append(PendingTensor(name: name, shape: shape, type: type, payload: .bytes(bytes), byteCount: count))
    }

    /// Appends a tensor with raw `bytes` in `dtype`'s layout.
    public mutating func addTensor(name: String, shape: [Int], dtype: DType, bytes: [UInt8]) {
        addTensor(name: name, shape: shape, type: GGMLType(dtype), bytes: bytes)
    }

    /// Appends `matrix` (`rows x columns`, any stride) as a tensor with `ne = [columns, rows]`.
    /// Its rows are copied when the file is written; the view keeps its storage alive.
    public mutating func addTensor(name: String, matrix: WeightMatrix) {
        let shape = [matrix.columns, matrix.rows]
        let count = checkedByteCount(name: name, shape: shape, type: GGMLType(matrix.dtype))
        tensors.append(PendingTensor(name: name, shape: shape, type: GGMLType(matrix.dtype),
                                     payload: .matrix(matrix), byteCount: count))
    }

    /// The complete file image.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        emit { out.append(contentsOf: $0) }
        return out
    }

    /// Writes the file atomically (temporary file in the same directory, `fsync`, rename).
    public func write(to path: String) throws(FileWriteError) {
        var file = try AtomicFileWriter(path: path)
        var failure: FileWriteError?
        emit { chunk in
            guard failure == nil else { return }
            do throws(FileWriteError) { try file.write(chunk) } catch { failure = error }
        }
        if let failure { throw failure }
        try file.commit()
    }

    private func checkedByteCount(name: String, shape: [Int], type: GGMLType) -> Int {
        precondition(!tensors.contains { $0.name == name }, "tensor '\(name)' added twice")
        precondition((1 ... GGUFParser.maximumDimensions).contains(shape.count) && shape.allSatisfy { $0 >= 0 },
                     "tensor '\(name)': shape \(shape) needs 1...4 non-negative dimensions")
        precondition(shape[0] % type.blockSize == 0, "tensor '\(name)': ne[0] = \(shape[0]) splits a \(type) block")
        guard let count = type.byteCount(elements: shape.reduce(1, *)) else {
            preconditionFailure("tensor '\(name)': shape \(shape) is too large")
        }
        return count
    }

    /// Produces the file in order: header, metadata, tensor table, padding, data.
    private func emit(_ sink: (UnsafeRawBufferPointer) -> Void) {
        var header = GGUFEncoder()
        header.append(contentsOf: GGUFParser.magic)
        header.append(UInt32(3))
        header.append(UInt64(tensors.count))
        header.append(UInt64(entries.count))
        for (key, value) in entries {
            header.append(key)
            header.appendTagged(value)
        }
        var offset = 0
        var offsets: [Int] = []
        for tensor in tensors {
            header.append(tensor.name)
            header.append(UInt32(tensor.shape.count))
            for dimension in tensor.shape { header.append(UInt64(dimension)) }
            header.append(tensor.type.rawValue)
            header.append(UInt64(offset))
            offsets.append(offset)
            offset = GGUFParser.alignUp(offset + tensor.byteCount, to: alignment)
        }
        header.pad(to: alignment)
        header.bytes.withUnsafeBytes(sink)
        var position = 0
        for (tensor, start) in zip(tensors, offsets) {
            if start > position { [UInt8](repeating: 0, count: start - position).withUnsafeBytes(sink) }
            switch tensor.payload {
            case .bytes(let bytes): bytes.withUnsafeBytes(sink)
            case .matrix(let matrix):
                let rowBytes = matrix.dtype.rowBytes(matrix.columns)
                if matrix.layout == .rowGroups {
                    // Back to GGUF's row order, one row at a time.
                    let buffer = UnsafeMutableRawPointer.allocate(byteCount: rowBytes, alignment: 16)
                    defer { buffer.deallocate() }
                    for row in 0 ..< matrix.rows {
                        matrix.copyRowFromGroups(row, into: buffer)
                        sink(UnsafeRawBufferPointer(start: buffer, count: rowBytes))
                    }
                } else {
                    for row in 0 ..< matrix.rows { sink(UnsafeRawBufferPointer(start: matrix.rowPointer(row), count: rowBytes)) }
                }
            }
            position = start + tensor.byteCount
        }
    }
}
