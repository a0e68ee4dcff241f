import TridentKernels

extension GGUFFile {
    /// The tensor `name` as a row-major matrix view into the mapping (no copy).
    ///
    /// A tensor with `ne = [columns, rows]` becomes `rows x columns`; a 1-D tensor `[n]`
    /// becomes `1 x n`; trailing dimensions of 1 are ignored. The view's `owner` keeps the
    /// file mapped.
    /// - Throws: `tensorNotFound`, `unsupportedTensorType` (no kernel `DType`), `notAMatrix`.
    public func matrix(named name: String) throws(GGUFError) -> WeightMatrix {
        let info = try requireTensor(name)
        guard let dtype = info.type.dtype else { throw .unsupportedTensorType(tensor: name, type: info.type) }
        guard info.shape.dropFirst(2).allSatisfy({ $0 == 1 }) else {
            throw .notAMatrix(tensor: name, shape: info.shape)
        }
        let columns = info.shape[0]
        let rows = info.shape.count > 1 ? info.shape[1] : 1
        // A parsed file is at least a header long, so the mapping exists.
        let base = file.bytes.baseAddress! + info.fileOffset
        return WeightMatrix(base: base, rows: rows, columns: columns, dtype: dtype, owner: file)
    }

    /// The tensor `name` dequantized to a new `[Float]` of `elementCount` values in storage
    /// order (for norms and other small tensors).
    /// - Throws: `tensorNotFound`, `unsupportedTensorType` (no kernel `DType`).
    public func floats(named name: String) throws(GGUFError) -> [Float] {
        let info = try requireTensor(name)
        guard let dtype = info.type.dtype else { throw .unsupportedTensorType(tensor: name, type: info.type) }
        let source = bytes(of: info)
        return [Float](unsafeUninitializedCapacity: info.elementCount) { buffer, initialized in
            if let base = source.baseAddress, info.elementCount > 0 {
                Dequantizer.dequantize(base, count: info.elementCount, dtype: dtype, into: buffer.baseAddress!)
            }
            initialized = info.elementCount
        }
    }

    private func requireTensor(_ name: String) throws(GGUFError) -> GGUFTensorInfo {
        guard let info = tensor(named: name) else { throw .tensorNotFound(name) }
        return info
    }
}
