import Foundation
import TridentFormats

/// A model on disk, opened: its configuration, where its tensors come from and how they are
/// named. A path is a GGUF file or a Hugging Face directory (recognised by `config.json`).
public struct ModelFiles: Sendable {
    public let path: String
    public let configuration: ModelConfiguration
    let source: WeightSource
    let naming: TensorNaming

    /// Opens `path` and reads its configuration (no weight is touched).
    /// - Throws: `HuggingFaceError` (naming the marker or shard file looked for), `GGUFError`,
    ///   `ModelLoadingError`.
    public init(path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            let directory = try HuggingFaceDirectory(path: path)
            let configuration = try ModelConfiguration(
                huggingFace: directory.config, where: (path as NSString).appendingPathComponent(HuggingFaceDirectory.configFile))
            let naming: TensorNaming
            if configuration.positionEncoding == .learned {
                naming = .huggingFaceGPT2(prefix: directory.tensor(named: "transformer.wte.weight") != nil ? "transformer." : "")
            } else {
                naming = .huggingFaceLlama
            }
            self.init(path: path, configuration: configuration, source: .huggingFace(directory), naming: naming)
        } else {
            let file = try GGUFFile(path: path)
            self.init(path: path, configuration: try ModelConfiguration(gguf: file), source: .gguf(file), naming: .gguf)
        }
    }

    private init(path: String, configuration: ModelConfiguration, source: WeightSource, naming: TensorNaming) {
        self.path = path
        self.configuration = configuration
        self.source = source
        self.naming = naming
    }

    /// Whether `path` names a Hugging Face directory rather than a file.
    public static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// The same model for a rank that reads only its slices: a GGUF file keeps just its tensor
    /// table (its mapping and metadata go once the original is released); a Hugging Face
    /// directory stays mapped, its pages untouched (slices are read with `pread`).
    public func forSlices() -> ModelFiles {
        guard case .gguf(let file) = source else { return self }
        return ModelFiles(path: path, configuration: configuration, source: .ggufReader(GGUFTensorReader(file)),
                          naming: naming)
    }
}
