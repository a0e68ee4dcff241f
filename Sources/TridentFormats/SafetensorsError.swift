/// Why a safetensors file could not be read, or a lookup in it failed.
public enum SafetensorsError: Error, Sendable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    /// The file is shorter than the 8-byte header length.
    case truncated(fileSize: Int)
    /// The header length does not fit in the file (or exceeds `limit`).
    case headerTooLarge(length: UInt64, fileSize: Int, limit: Int)
    /// The JSON header (bytes `[8, 8 + length)`) is not a JSON object of the expected form.
    case invalidHeader(reason: String)
    /// A tensor entry lacks a field or has one of the wrong form.
    case invalidEntry(tensor: String, reason: String)
    case unknownDType(tensor: String, found: String)
    /// `data_offsets` span a different byte count than `shape` and `dtype` need.
    case sizeMismatch(tensor: String, shape: [Int], dtype: SafetensorsDType, expected: Int, found: Int)
    /// `data_offsets` (relative to the data section of `dataSize` bytes) run past its end.
    case tensorOutOfBounds(tensor: String, begin: Int, end: Int, dataSize: Int)
    case overlappingTensors(first: String, second: String)
    case tensorNotFound(String)
    case unsupportedDType(tensor: String, dtype: SafetensorsDType)
    case notAMatrix(tensor: String, shape: [Int])

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): return "cannot open safetensors file '\(path)': \(reason)"
        case .truncated(let size): return "safetensors header length at offset 0: needs 8 bytes, file has \(size)"
        case .headerTooLarge(let length, let size, let limit):
            return "safetensors header length \(length) at offset 0 exceeds the file (size \(size)) or the limit \(limit)"
        case .invalidHeader(let reason): return "safetensors JSON header at offset 8: \(reason)"
        case .invalidEntry(let tensor, let reason): return "safetensors tensor '\(tensor)': \(reason)"
        case .unknownDType(let tensor, let found): return "safetensors tensor '\(tensor)': unknown dtype '\(found)'"
        case .sizeMismatch(let tensor, let shape, let dtype, let expected, let found):
            return "safetensors tensor '\(tensor)': shape \(shape) \(dtype.rawValue) needs \(expected) bytes, data_offsets span \(found)"
        case .tensorOutOfBounds(let tensor, let begin, let end, let size):
            return "safetensors tensor '\(tensor)': data_offsets [\(begin), \(end)) run past the data section (size \(size))"
        case .overlappingTensors(let first, let second):
            return "safetensors tensors '\(first)' and '\(second)' overlap"
        case .tensorNotFound(let name): return "no tensor named '\(name)'"
        case .unsupportedDType(let tensor, let dtype):
            return "safetensors tensor '\(tensor)' has dtype \(dtype.rawValue), which Trident cannot compute with"
        case .notAMatrix(let tensor, let shape):
            return "safetensors tensor '\(tensor)' with shape \(shape) is not a matrix"
        }
    }
}
