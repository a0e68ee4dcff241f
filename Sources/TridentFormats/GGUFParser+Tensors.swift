extension GGUFParser {
    /// name length (8) + n_dims (4) + one dimension (8) + type (4) + offset (8).
    static let minimumTensorInfoSize = 32
    /// ggml's `GGML_MAX_DIMS`.
    static let maximumDimensions = 4

    /// A tensor table entry as read, before its data range is checked.
    struct TensorRecord {
        var name: String
        var recordOffset: Int
        var shape: [Int]
        var type: GGMLType
        var dataOffset: UInt64
        var byteCount: Int
    }

    /// Reads `count` tensor table entries, checking each one's dimensions and type.
    mutating func readTensorRecords(count: Int) throws(GGUFError) -> [TensorRecord] {
        var records: [TensorRecord] = []
        records.reserveCapacity(count)
        for index in 0 ..< count {
            records.append(try readTensorRecord(index: index))
        }
        return records
    }

    private mutating func readTensorRecord(index: Int) throws(GGUFError) -> TensorRecord {
        let recordOffset = reader.offset
        let name = try reader.readString("tensor #\(index) name")
        let dimsOffset = reader.offset
        let dims = try reader.read(UInt32.self, "tensor '\(name)' n_dims")
        guard dims >= 1 && dims <= UInt32(Self.maximumDimensions) else {
            throw .badDimensionCount(tensor: name, offset: dimsOffset, dims: dims)
        }
        var ne: [UInt64] = []
        for axis in 0 ..< Int(dims) {
            ne.append(try reader.read(UInt64.self, "tensor '\(name)' ne[\(axis)]"))
        }
        let typeOffset = reader.offset
        let rawType = try reader.read(UInt32.self, "tensor '\(name)' type")
        guard let type = GGMLType(rawValue: rawType) else {
            throw .unknownTensorType(tensor: name, offset: typeOffset, raw: rawType)
        }
        let dataOffset = try reader.read(UInt64.self, "tensor '\(name)' offset")
        let (shape, byteCount) = try Self.checkShape(ne, type: type, tensor: name, offset: dimsOffset)
        return TensorRecord(name: name, recordOffset: recordOffset, shape: shape, type: type,
                            dataOffset: dataOffset, byteCount: byteCount)
    }

    /// Checks that `ne` fits in `Int` without overflow and that rows are whole blocks;
    /// returns the shape and the data size in bytes.
    static func checkShape(_ ne: [UInt64], type: GGMLType, tensor: String,
                           offset: Int) throws(GGUFError) -> ([Int], Int) {
        func invalid(_ reason: String) -> GGUFError {
            .invalidShape(tensor: tensor, offset: offset, shape: ne, reason: reason)
        }
        var elements = 1
        for dimension in ne {
            guard dimension <= UInt64(Int64.max) else { throw invalid("dimension \(dimension) is negative as int64") }
            let (product, overflow) = elements.multipliedReportingOverflow(by: Int(dimension))
            guard !overflow else { throw invalid("element count overflows") }
            elements = product
        }
        guard Int(ne[0]) % type.blockSize == 0 else {
            throw invalid("ne[0] = \(ne[0]) is not a multiple of the \(type) block size \(type.blockSize)")
        }
        guard let bytes = type.byteCount(elements: elements) else { throw invalid("byte size overflows") }
        return (ne.map { Int($0) }, bytes)
    }

    /// Checks names, alignment, bounds and overlap; returns the tensors in file order.
    func validate(_ records: [TensorRecord], dataOffset: Int,
                  alignment: Int) throws(GGUFError) -> [GGUFTensorInfo] {
        let fileSize = reader.bytes.count
        var seen = Set<String>()
        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(records.count)
        for record in records {
            guard seen.insert(record.name).inserted else {
                throw .duplicateTensor(record.name, offset: record.recordOffset)
            }
            guard record.dataOffset % UInt64(alignment) == 0 else {
                throw .misalignedTensor(tensor: record.name, offset: record.dataOffset, alignment: alignment)
            }
            let (start, startOverflow) = UInt64(dataOffset).addingReportingOverflow(record.dataOffset)
            let (end, endOverflow) = start.addingReportingOverflow(UInt64(record.byteCount))
            guard !startOverflow, !endOverflow, end <= UInt64(fileSize) else {
                throw .tensorOutOfBounds(tensor: record.name, start: startOverflow ? .max : start,
                                         end: startOverflow || endOverflow ? .max : end, fileSize: fileSize)
            }
            tensors.append(GGUFTensorInfo(name: record.name, shape: record.shape, type: record.type,
                                          offset: Int(record.dataOffset), fileOffset: Int(start),
                                          byteCount: record.byteCount))
        }
        try Self.checkNoOverlap(tensors)
        return tensors
    }

    /// Throws if any two non-empty tensors share a byte.
    static func checkNoOverlap(_ tensors: [GGUFTensorInfo]) throws(GGUFError) {
        let ordered = tensors.filter { $0.byteCount > 0 }.sorted { $0.fileOffset < $1.fileOffset }
        for (previous, next) in zip(ordered, ordered.dropFirst())
        where next.fileOffset < previous.fileRange.upperBound {
            throw .overlappingTensors(first: previous.name, second: next.name,
                                      firstEnd: previous.fileRange.upperBound, secondStart: next.fileOffset)
        }
    }
}
