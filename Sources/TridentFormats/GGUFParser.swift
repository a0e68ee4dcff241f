/// Parses a GGUF (version 2 or 3, little-endian) file image into header, metadata and a
/// validated tensor table. Pure: it reads only `bytes` and allocates nothing whose size has
/// not first been checked against the bytes that remain.
struct GGUFParser {
    /// Deepest array nesting accepted (`[[[x]]]` is depth 3).
    static let maximumNesting = 8
    static let defaultAlignment = 32
    static let magic: [UInt8] = Array("GGUF".utf8)

    struct Result {
        var version: UInt32
        var metadata: [String: GGUFValue]
        var metadataKeys: [String]
        var alignment: Int
        var dataOffset: Int
        var tensors: [GGUFTensorInfo]
    }

    var reader: GGUFByteReader

    init(_ bytes: UnsafeRawBufferPointer) { reader = GGUFByteReader(bytes) }

    mutating func parse() throws(GGUFError) -> Result {
        let version = try readHeaderStart()
        let tensorCount = try reader.readCount("tensor_count", minimumSize: Self.minimumTensorInfoSize,
                                               isArray: false)
        let keyCount = try reader.readCount("metadata_kv_count", minimumSize: 13, isArray: false)
        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        var alignmentOffset = 0
        for index in 0 ..< keyCount {
            let keyOffset = reader.offset
            let key = try reader.readString("metadata key #\(index)")
            let valueOffset = reader.offset
            let value = try readTaggedValue("metadata '\(key)'", depth: 0)
            guard metadata.updateValue(value, forKey: key) == nil else {
                throw .duplicateKey(key, offset: keyOffset)
            }
            if key == "general.alignment" { alignmentOffset = valueOffset }
            keys.append(key)
        }
        let alignment = try Self.alignment(metadata["general.alignment"], offset: alignmentOffset)
        let records = try readTensorRecords(count: tensorCount)
        let dataOffset = Self.alignUp(reader.offset, to: alignment)
        let tensors = try validate(records, dataOffset: dataOffset, alignment: alignment)
        return Result(version: version, metadata: metadata, metadataKeys: keys, alignment: alignment,
                      dataOffset: dataOffset, tensors: tensors)
    }

    /// Reads and checks the magic and version.
    private mutating func readHeaderStart() throws(GGUFError) -> UInt32 {
        let available = min(4, reader.remaining)
        let found = Array(reader.bytes[0 ..< available])
        guard found == Self.magic else { throw .badMagic(found: found) }
        reader.seek(to: 4)
        let version = try reader.read(UInt32.self, "version")
        guard version == 2 || version == 3 else { throw .unsupportedVersion(version) }
        return version
    }

    /// Reads a `uint32` type tag, then a value of that type.
    private mutating func readTaggedValue(_ field: @autoclosure () -> String, depth: Int) throws(GGUFError) -> GGUFValue {
        let tagOffset = reader.offset
        let raw = try reader.read(UInt32.self, field() + " type")
        guard let type = GGUFValueType(rawValue: raw) else {
            throw .unknownValueType(field: field(), offset: tagOffset, raw: raw)
        }
        return try readValue(type, field(), depth: depth)
    }

    private mutating func readValue(_ type: GGUFValueType, _ field: @autoclosure () -> String,
                                    depth: Int) throws(GGUFError) -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try reader.read(UInt8.self, field()))
        case .int8: return .int8(try reader.read(Int8.self, field()))
        case .uint16: return .uint16(try reader.read(UInt16.self, field()))
        case .int16: return .int16(try reader.read(Int16.self, field()))
        case .uint32: return .uint32(try reader.read(UInt32.self, field()))
        case .int32: return .int32(try reader.read(Int32.self, field()))
        case .uint64: return .uint64(try reader.read(UInt64.self, field()))
        case .int64: return .int64(try reader.read(Int64.self, field()))
        case .float32: return .float32(try reader.readFloat(field()))
        case .float64: return .float64(try reader.readDouble(field()))
        case .bool: return .bool(try reader.read(UInt8.self, field()) != 0)
        case .string: return .string(try reader.readString(field()))
        case .array: return try readArray(field(), depth: depth + 1)
        }
    }

    private mutating func readArray(_ field: @autoclosure () -> String, depth: Int) throws(GGUFError) -> GGUFValue {
        let start = reader.offset
        guard depth <= Self.maximumNesting else {
            throw .nestingTooDeep(field: field(), offset: start, limit: Self.maximumNesting)
        }
        let raw = try reader.read(UInt32.self, field() + " element type")
        guard let elementType = GGUFValueType(rawValue: raw) else {
            throw .unknownValueType(field: field() + " element type", offset: start, raw: raw)
        }
        let count = try reader.readCount(field(), minimumSize: elementType.minimumSize, isArray: true)
        var elements: [GGUFValue] = []
        elements.reserveCapacity(count)
        for index in 0 ..< count {
            elements.append(try readValue(elementType, field() + "[\(index)]", depth: depth))
        }
        return .array(elements)
    }

    /// The data alignment: `general.alignment` if present (UINT32, non-zero power of two).
    private static func alignment(_ value: GGUFValue?, offset: Int) throws(GGUFError) -> Int {
        guard let value else { return defaultAlignment }
        guard case .uint32(let raw) = value, raw != 0, raw & (raw - 1) == 0 else {
            throw .badAlignment(found: "\(value.typeName) \(value)", offset: offset)
        }
        return Int(raw)
    }

    /// `offset` rounded up to a multiple of `alignment` (a power of two). Cannot overflow:
    /// `offset` is at most the file size.
    static func alignUp(_ offset: Int, to alignment: Int) -> Int {
        (offset + alignment - 1) / alignment * alignment
    }
}
