/// The type tag GGUF stores before each metadata value (and array element type).
enum GGUFValueType: UInt32, CaseIterable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5
    case float32 = 6, bool = 7, string = 8, array = 9
    case uint64 = 10, int64 = 11, float64 = 12

    /// The fewest bytes one value of this type can occupy (used to bound array counts).
    var minimumSize: Int {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64: return 8
        case .string: return 8          // uint64 length, empty body
        case .array: return 12          // uint32 element type + uint64 count
        }
    }

    /// GGUF's spelling, e.g. `UINT32`.
    var name: String { String(describing: self).uppercased() }

    /// The tag of `value`.
    init(of value: GGUFValue) {
        switch value {
        case .uint8: self = .uint8
        case .int8: self = .int8
        case .uint16: self = .uint16
        case .int16: self = .int16
        case .uint32: self = .uint32
        case .int32: self = .int32
        case .uint64: self = .uint64
        case .int64: self = .int64
        case .float32: self = .float32
        case .float64: self = .float64
        case .bool: self = .bool
        case .string: self = .string
        case .array: self = .array
        }
    }
}

extension GGUFValue {
    /// The GGUF type name of this value, e.g. `UINT32` or `ARRAY[STRING]` (for messages).
    public var typeName: String {
        guard case .array(let elements) = self else { return GGUFValueType(of: self).name }
        return "ARRAY[\(elements.first?.typeName ?? "")]"
    }
}
