/// Why a Hugging Face directory could not be converted to GGUF (`HuggingFaceToGGUF`).
public enum HuggingFaceConversionError: Error, Sendable, CustomStringConvertible, Equatable {
    /// `model_type` is not one the converter lays out (llama, mistral, qwen2).
    case unsupportedArchitecture(String)
    /// A tensor the configuration needs is not in the directory.
    case missingTensor(name: String, directory: String)
    /// A tensor's shape disagrees with `config.json`.
    case wrongShape(name: String, expected: [Int], found: [Int])
    /// A tensor is stored in a type other than F32, F16 or BF16.
    case unsupportedType(name: String, type: String)
    /// The directory holds a tensor with no GGUF name.
    case unmappedTensor(name: String)

    public var description: String {
        switch self {
        case .unsupportedArchitecture(let type):
            "cannot convert model_type '\(type)' to GGUF (supported: \(HuggingFaceToGGUF.supportedModelTypes.joined(separator: ", ")))"
        case .missingTensor(let name, let directory): "Hugging Face directory '\(directory)' has no tensor '\(name)'"
        case .wrongShape(let name, let expected, let found): "tensor '\(name)' has shape \(found), expected \(expected) from config.json"
        case .unsupportedType(let name, let type): "tensor '\(name)' is stored as \(type), expected F32, F16 or BF16"
        case .unmappedTensor(let name): "tensor '\(name)' has no GGUF name (not a llama / mistral / qwen2 weight)"
        }
    }
}
