import Foundation
import TridentFormats

extension ModelConfiguration {
    /// Reads the configuration of the model at `path`: a GGUF file, a Hugging Face
    /// `config.json`, or a directory containing one (a safetensors checkpoint).
    public static func load(path: String) throws -> ModelConfiguration {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelLoadingError.inconsistentConfiguration("no model file at \(path)")
        }
        if isDirectory.boolValue {
            return try load(path: (path as NSString).appendingPathComponent("config.json"))
        }
        if path.hasSuffix(".json") {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            let configuration = try JSONDecoder().decode(ModelConfiguration.self, from: data)
            try configuration.validate()
            return configuration
        }
        return try ModelConfiguration(gguf: GGUFFile(path: path))
    }
}
