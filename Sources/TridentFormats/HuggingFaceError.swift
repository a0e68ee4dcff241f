/// Why a Hugging Face model directory could not be opened.
public enum HuggingFaceError: Error, Sendable, CustomStringConvertible, Equatable {
    /// `path` is not a directory with `config.json`.
    case notAModelDirectory(path: String)
    /// Neither `model.safetensors` nor `model.safetensors.index.json` is in the directory.
    case noWeights(directory: String)
    /// The index file is not `{"weight_map": {"tensor": "shard file", ...}}`.
    case invalidIndex(path: String, reason: String)
    /// A shard the index names is not in the directory.
    case missingShard(file: String, directory: String)
    /// The index places a tensor in a shard that does not hold it.
    case tensorNotInShard(tensor: String, shard: String)
    /// A shard (or the single weights file) could not be read.
    case shard(file: String, SafetensorsError)
    /// `config.json` is unreadable or not a JSON object.
    case invalidConfig(path: String, reason: String)

    public var description: String {
        switch self {
        case .notAModelDirectory(let path):
            return "'\(path)' is not a model: expected a GGUF file, a Hugging Face directory with config.json or a Trident checkpoint with manifest.json"
        case .noWeights(let directory):
            return "Hugging Face directory '\(directory)' has no weights: looked for model.safetensors and model.safetensors.index.json"
        case .invalidIndex(let path, let reason): return "index '\(path)': \(reason)"
        case .missingShard(let file, let directory):
            return "Hugging Face directory '\(directory)': shard '\(file)' named by model.safetensors.index.json is missing"
        case .tensorNotInShard(let tensor, let shard):
            return "model.safetensors.index.json places tensor '\(tensor)' in '\(shard)', which does not hold it"
        case .shard(let file, let error): return "'\(file)': \(error)"
        case .invalidConfig(let path, let reason): return "'\(path)': \(reason)"
        }
    }

    public static func == (a: HuggingFaceError, b: HuggingFaceError) -> Bool { a.description == b.description }
}
