import Foundation
import TridentFormats

extension ModelConfiguration {
    /// Reads the configuration of the model at `path`: a GGUF file, a Hugging Face directory
    /// (its `config.json`), or a `config.json` file. A JSON object with `model_type` is read
    /// by Hugging Face's keys for that type; one without, by `ModelConfiguration`'s own keys.
    public static func load(path: String) throws -> ModelConfiguration {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelLoadingError.inconsistentConfiguration("no model file at \(path)")
        }
        if isDirectory.boolValue {
            guard HuggingFaceDirectory.isModelDirectory(path) else { throw HuggingFaceError.notAModelDirectory(path: path) }
            return try load(path: (path as NSString).appendingPathComponent(HuggingFaceDirectory.configFile))
        }
        if path.hasSuffix(".json") {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return try ModelConfiguration(json: data, where: path)
        }
        return try ModelConfiguration(gguf: GGUFFile(path: path))
    }

    /// A `config.json`: Hugging Face's keys when it names a `model_type`, else this type's own.
    public init(json data: Data, where file: String) throws {
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        if object?["model_type"] != nil {
            try self.init(huggingFace: data, where: file)
            return
        }
        self = try JSONDecoder().decode(ModelConfiguration.self, from: data)
        try validate()
    }
}
