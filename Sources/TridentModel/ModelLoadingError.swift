/// Why a model could not be loaded.
public enum ModelLoadingError: Error, CustomStringConvertible, Equatable {
    case unsupportedArchitecture(String)
    case missingTensor(String)
    /// Shapes are row-major, outermost first (`[rows, columns]` for a matrix).
    case wrongShape(tensor: String, expected: [Int], found: [Int])
    case unsupportedTensorType(tensor: String, type: String)
    case inconsistentConfiguration(String)
    /// A setting of the model Trident does not implement (rope scaling, a sliding window...).
    case unsupportedFeature(String)

    public var description: String {
        switch self {
        case .unsupportedArchitecture(let a):
            return "unsupported architecture '\(a)' (supported: \(ModelConfiguration.supportedArchitectures.sorted().joined(separator: ", ")))"
        case .missingTensor(let t): return "model has no tensor '\(t)'"
        case let .wrongShape(t, e, f): return "tensor '\(t)' has shape \(f), expected \(e)"
        case let .unsupportedTensorType(t, type): return "tensor '\(t)' has type \(type), which Trident cannot compute with (supported: \(ModelSupport.supportedTypeList))"
        case .inconsistentConfiguration(let s): return "inconsistent model configuration: \(s)"
        case .unsupportedFeature(let s): return "unsupported model: \(s)"
        }
    }
}
