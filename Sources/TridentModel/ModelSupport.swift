import TridentFormats

/// What in a GGUF file Trident cannot compute with, found from the header alone, so a model
/// is refused before any weight is read (and `trident info` can say why).
public struct ModelSupport: Sendable, Equatable {
    /// A tensor whose storage type has no kernel.
    public struct UnsupportedTensor: Sendable, Equatable {
        public let name: String
        public let type: GGMLType

        public init(name: String, type: GGMLType) {
            self.name = name
            self.type = type
        }
    }

    /// `general.architecture`, or nil when the key is missing or not a string.
    public let architecture: String?
    /// Tensors of types without kernels, in file order.
    public let unsupportedTensors: [UnsupportedTensor]

    public init(file: GGUFFile) {
        architecture = file.metadata["general.architecture"]?.string
        unsupportedTensors = file.tensors.filter { $0.type.dtype == nil }.map { UnsupportedTensor(name: $0.name, type: $0.type) }
    }

    /// Whether Trident has a model for `architecture`.
    public var architectureSupported: Bool {
        architecture.map { ModelConfiguration.supportedArchitectures.contains($0) } ?? false
    }

    /// The ggml tensor types Trident computes with, in ggml's order.
    public static var supportedTypes: [GGMLType] { GGMLType.allCases.filter { $0.dtype != nil } }

    /// `supportedTypes` as one comma-separated line, e.g. `F32, F16, Q4_0, ...`.
    public static var supportedTypeList: String { supportedTypes.map(\.description).joined(separator: ", ") }

    /// - Throws: `ModelLoadingError.unsupportedArchitecture`, or `.unsupportedTensorType`
    ///   naming the first tensor of an unsupported type (its message lists the supported types).
    public func check() throws(ModelLoadingError) {
        if !architectureSupported { throw .unsupportedArchitecture(architecture ?? "(none: no general.architecture key)") }
        if let first = unsupportedTensors.first {
            throw .unsupportedTensorType(tensor: first.name, type: "\(first.type)")
        }
    }

    /// Lines for `trident info`: one per problem (unsupported tensors grouped by type), or
    /// one line saying everything is supported.
    public var report: [String] {
        var lines: [String] = []
        if !architectureSupported {
            lines.append("architecture '\(architecture ?? "(none)")' is not supported (supported: "
                         + ModelConfiguration.supportedArchitectures.sorted().joined(separator: ", ") + ")")
        }
        var byType: [GGMLType: [String]] = [:]
        for t in unsupportedTensors { byType[t.type, default: []].append(t.name) }
        for (type, names) in byType.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let shown = names.prefix(3).joined(separator: ", ") + (names.count > 3 ? ", ..." : "")
            lines.append("\(names.count) tensor(s) of type \(type) (\(shown)): no kernel for \(type); supported: \(Self.supportedTypeList)")
        }
        return lines.isEmpty ? ["every tensor type and the architecture are supported"] : lines
    }
}
