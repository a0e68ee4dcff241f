import Foundation
import TridentModel
/// Errors raised while turning a `--model` argument into a `PlannerModel`.
public enum ModelSourceError: Error, Equatable, CustomStringConvertible {
    /// The argument names neither a preset nor a model file with a known extension.
    case unknownModel(String, presets: [String])
    /// The argument is a model file that could not be read.
    case unreadableFile(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unknownModel(name, presets):
            return "unknown model '\(name)': expected a preset (\(presets.joined(separator: ", "))) "
                + "or a path to a .gguf or .safetensors file"
        case let .unreadableFile(path, reason):
            return "cannot read model '\(path)': \(reason)"
        }
    }
}

/// Resolves a `--model` argument: a preset name or a GGUF/safetensors path.
public enum ModelSource {
    /// Returns the preset named `argument`, or the model read from the file at that path.
    public static func resolve(_ argument: String) throws(ModelSourceError) -> PlannerModel {
        if let preset = ModelPreset(rawValue: argument.lowercased()) { return preset.model }
        let lower = argument.lowercased()
        if lower.hasSuffix(".gguf") || lower.hasSuffix(".safetensors") || lower.hasSuffix("config.json")
            || argument.contains("/") {
            return try loadFile(path: argument)
        }
        throw .unknownModel(argument, presets: ModelPreset.allCases.map(\.rawValue))
    }

    /// Reads a model description from a GGUF file, a Hugging Face directory or a `config.json`
    /// (gated MLPs as SwiGLU, GPT-2's plain MLP as GELU).
    static func loadFile(path: String) throws(ModelSourceError) -> PlannerModel {
        do {
            let configuration = try ModelConfiguration.load(path: path)
            let name = (path as NSString).lastPathComponent
            return PlannerModel(name: name, configuration: configuration, mlp: configuration.gatedMLP ? .swiGLU : .gelu)
        } catch {
            throw .unreadableFile(path: path, reason: "\(error)")
        }
    }
}
