/// Why a GGUF file could not be read, or why a lookup in it failed.
///
/// Every case raised while parsing names the field and the file offset where the problem
/// was found, so a message identifies the exact bytes at fault.
public enum GGUFError: Error, Sendable, CustomStringConvertible {
    /// The file could not be opened, sized or mapped (`errno` text in `reason`).
    case cannotOpen(path: String, reason: String)
    /// Fewer than `needed` bytes remain at `offset` while reading `field`.
    case truncated(field: String, offset: Int, needed: Int, fileSize: Int)
    /// The first four bytes are not `GGUF`.
    case badMagic(found: [UInt8])
    /// A version other than 2 or 3 (version 1 and big-endian files are not supported).
    case unsupportedVersion(UInt32)
    /// A string length that cannot fit in the rest of the file.
    case stringTooLong(field: String, offset: Int, length: UInt64, available: Int)
    /// An array element count that cannot fit in the rest of the file.
    case arrayTooLong(field: String, offset: Int, count: UInt64, available: Int)
    /// A tensor or key/value count that cannot fit in the rest of the file.
    case countTooLarge(field: String, offset: Int, count: UInt64, available: Int)
    /// String bytes that are not valid UTF-8.
    case invalidUTF8(field: String, offset: Int)
    /// A metadata value type tag GGUF does not define.
    case unknownValueType(field: String, offset: Int, raw: UInt32)
    /// Arrays nested deeper than the reader allows.
    case nestingTooDeep(field: String, offset: Int, limit: Int)
    /// A metadata key that appears twice.
    case duplicateKey(String, offset: Int)
    /// `general.alignment` is not a non-zero power of two stored as UINT32.
    case badAlignment(found: String, offset: Int)
    /// A tensor with zero or more than four dimensions.
    case badDimensionCount(tensor: String, offset: Int, dims: UInt32)
    /// A tensor type raw value ggml does not define.
    case unknownTensorType(tensor: String, offset: Int, raw: UInt32)
    /// Dimensions that are negative-as-signed, overflow, or split a quantization block.
    case invalidShape(tensor: String, offset: Int, shape: [UInt64], reason: String)
    /// A tensor name that appears twice.
    case duplicateTensor(String, offset: Int)
    /// A tensor offset that is not a multiple of the file's alignment.
    case misalignedTensor(tensor: String, offset: UInt64, alignment: Int)
    /// A tensor whose data `[start, end)` (absolute file offsets) runs past the end of the file.
    case tensorOutOfBounds(tensor: String, start: UInt64, end: UInt64, fileSize: Int)
    /// Two tensors whose data ranges (absolute file offsets) overlap.
    case overlappingTensors(first: String, second: String, firstEnd: Int, secondStart: Int)
    /// A metadata key the caller asked for is absent.
    case missingKey(String)
    /// A metadata key holds a value of another type than the caller asked for.
    case wrongType(key: String, expected: String, found: String)
    /// No tensor has this name.
    case tensorNotFound(String)
    /// The tensor's type has no kernel `DType`, or cannot be dequantized.
    case unsupportedTensorType(tensor: String, type: GGMLType)
    /// The tensor cannot be viewed as a matrix (more than two non-unit dimensions).
    case notAMatrix(tensor: String, shape: [Int])

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            return "cannot open GGUF file '\(path)': \(reason)"
        case .truncated(let field, let offset, let needed, let size):
            return "\(field) at offset \(offset): needs \(needed) bytes, file ends at \(size)"
        case .badMagic(let found):
            return "not a GGUF file: expected magic 'GGUF' (47 47 55 46), found \(hex(found))"
        case .unsupportedVersion(let v):
            let hint = v > 0xFFFF ? " (a big-endian file?)" : ""
            return "unsupported GGUF version \(v)\(hint): expected 2 or 3"
        case .stringTooLong(let field, let offset, let length, let available):
            return "\(field) at offset \(offset): string length \(length) exceeds the \(available) bytes left"
        case .arrayTooLong(let field, let offset, let count, let available):
            return "\(field) at offset \(offset): array of \(count) elements cannot fit in the \(available) bytes left"
        case .countTooLarge(let field, let offset, let count, let available):
            return "\(field) at offset \(offset): count \(count) cannot fit in the \(available) bytes left"
        case .invalidUTF8(let field, let offset):
            return "\(field) at offset \(offset): string is not valid UTF-8"
        case .unknownValueType(let field, let offset, let raw):
            return "\(field) at offset \(offset): unknown metadata value type \(raw) (expected 0...12)"
        case .nestingTooDeep(let field, let offset, let limit):
            return "\(field) at offset \(offset): arrays nested deeper than \(limit) levels"
        case .duplicateKey(let key, let offset):
            return "metadata key '\(key)' at offset \(offset) appears twice"
        case .badAlignment(let found, let offset):
            return "general.alignment at offset \(offset): expected a non-zero power of two (UINT32), found \(found)"
        case .badDimensionCount(let tensor, let offset, let dims):
            return "tensor '\(tensor)' at offset \(offset): \(dims) dimensions, expected 1...4"
        case .unknownTensorType(let tensor, let offset, let raw):
            return "tensor '\(tensor)' at offset \(offset): unknown ggml type \(raw)"
        case .invalidShape(let tensor, let offset, let shape, let reason):
            return "tensor '\(tensor)' at offset \(offset): invalid shape \(shape): \(reason)"
        case .duplicateTensor(let name, let offset):
            return "tensor '\(name)' at offset \(offset) appears twice"
        case .misalignedTensor(let tensor, let offset, let alignment):
            return "tensor '\(tensor)': data offset \(offset) is not a multiple of the alignment \(alignment)"
        case .tensorOutOfBounds(let tensor, let start, let end, let size):
            return "tensor '\(tensor)': data [\(start), \(end)) runs past end of file (size \(size))"
        case .overlappingTensors(let first, let second, let firstEnd, let secondStart):
            return "tensor '\(second)' data starts at \(secondStart), inside tensor '\(first)' (ends at \(firstEnd))"
        case .missingKey(let key):
            return "metadata key '\(key)' is missing"
        case .wrongType(let key, let expected, let found):
            return "metadata key '\(key)': expected \(expected), found \(found)"
        case .tensorNotFound(let name):
            return "no tensor named '\(name)'"
        case .unsupportedTensorType(let tensor, let type):
            return "tensor '\(tensor)' has type \(type), which Trident cannot compute with"
        case .notAMatrix(let tensor, let shape):
            return "tensor '\(tensor)' with shape \(shape) is not a matrix (at most 2 dimensions above 1)"
        }
    }
}

private func hex(_ bytes: [UInt8]) -> String {
    bytes.isEmpty ? "an empty file"
        : bytes.map { String($0, radix: 16, uppercase: false).leftPadded(to: 2) }.joined(separator: " ")
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
