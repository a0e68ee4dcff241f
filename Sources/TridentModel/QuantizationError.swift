import TridentFormats

/// Why `ModelQuantizer` could not convert a model.
public enum QuantizationError: Error, Sendable, CustomStringConvertible {
    /// The input is not something the quantizer reads.
    case unsupportedInput(path: String, reason: String)
    /// A tensor that must be converted is stored in a type Trident cannot decode.
    case cannotDecode(tensor: String, type: String)
    /// A tensor's shape does not fit the chosen type (should not happen after fallbacks).
    case badShape(tensor: String, shape: [Int], type: String)
    /// The input's metadata lacks a key the rules need.
    case missingMetadata(key: String, path: String)
    /// The output could not be written.
    case write(path: String, FileWriteError)

    public var description: String {
        switch self {
        case .unsupportedInput(let path, let reason): "cannot quantize '\(path)': \(reason)"
        case .cannotDecode(let tensor, let type):
            "tensor '\(tensor)' is stored as \(type), which Trident cannot decode, so it cannot be requantized"
        case .badShape(let tensor, let shape, let type): "tensor '\(tensor)' with shape \(shape) does not split into \(type) blocks"
        case .missingMetadata(let key, let path): "'\(path)' has no metadata key '\(key)' (needed to choose per-layer types)"
        case .write(let path, let error): "cannot write '\(path)': \(error)"
        }
    }
}
