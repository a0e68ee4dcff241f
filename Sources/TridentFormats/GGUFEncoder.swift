/// Little-endian GGUF encoding of scalars, strings and tagged metadata values.
struct GGUFEncoder {
    var bytes: [UInt8] = []

    mutating func append(contentsOf raw: [UInt8]) { bytes.append(contentsOf: raw) }

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// A `uint64` length and the UTF-8 bytes.
    mutating func append(_ string: String) {
        let utf8 = Array(string.utf8)
        append(UInt64(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// The `uint32` type tag, then the value.
    mutating func appendTagged(_ value: GGUFValue) {
        append(GGUFValueType(of: value).rawValue)
        appendUntagged(value)
    }

    /// The value without its tag. Arrays take their element type from the first element
    /// (empty arrays are written as UINT8); all elements must share that type.
    mutating func appendUntagged(_ value: GGUFValue) {
        switch value {
        case .uint8(let v): append(v)
        case .int8(let v): append(v)
        case .uint16(let v): append(v)
        case .int16(let v): append(v)
        case .uint32(let v): append(v)
        case .int32(let v): append(v)
        case .uint64(let v): append(v)
        case .int64(let v): append(v)
        case .float32(let v): append(v.bitPattern)
        case .float64(let v): append(v.bitPattern)
        case .bool(let v): append(UInt8(v ? 1 : 0))
        case .string(let v): append(v)
        case .array(let elements):
            let type = elements.first.map(GGUFValueType.init(of:)) ?? .uint8
            precondition(elements.allSatisfy { GGUFValueType(of: $0) == type },
                         "GGUF arrays must hold elements of one type")
            append(type.rawValue)
            append(UInt64(elements.count))
            for element in elements { appendUntagged(element) }
        }
    }

    /// Zero bytes up to the next multiple of `alignment`.
    mutating func pad(to alignment: Int) {
        let target = GGUFParser.alignUp(bytes.count, to: alignment)
        bytes.append(contentsOf: repeatElement(0, count: target - bytes.count))
    }
}
