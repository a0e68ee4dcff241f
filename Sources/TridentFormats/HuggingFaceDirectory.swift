import Foundation

/// A Hugging Face model directory: `config.json` and its weights, either one
/// `model.safetensors` or shards `model-0000N-of-0000M.safetensors` listed by
/// `model.safetensors.index.json` (`{"weight_map": {"tensor name": "shard file"}}`).
///
/// Every shard is memory-mapped and validated on open (`SafetensorsFile`); the index must name
/// only plain file names in the directory and place each tensor in a shard that holds it.
/// Immutable and safe to share between threads.
public final class HuggingFaceDirectory: Sendable {
    /// Marker file a directory is recognised by.
    public static let configFile = "config.json"
    public static let singleWeightsFile = "model.safetensors"
    public static let indexFile = "model.safetensors.index.json"

    /// The directory's path.
    public let path: String
    /// The bytes of `config.json`.
    public let config: Data
    /// The weight files, in file-name order.
    public let shards: [SafetensorsFile]
    private let index: [String: (shard: Int, info: SafetensorsTensorInfo)]

    /// Whether `path` is a directory with a `config.json` (cheap: no file is parsed).
    public static func isModelDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
            && FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent(configFile))
    }

    /// Opens the directory: reads `config.json`, maps and validates every weights file.
    /// - Throws: `HuggingFaceError` naming the missing or malformed file.
    public init(path: String) throws(HuggingFaceError) {
        guard Self.isModelDirectory(path) else { throw .notAModelDirectory(path: path) }
        self.path = path
        let configPath = (path as NSString).appendingPathComponent(Self.configFile)
        guard let config = FileManager.default.contents(atPath: configPath) else {
            throw .invalidConfig(path: configPath, reason: "cannot be read")
        }
        self.config = config
        let files = try Self.weightFiles(in: path)
        var shards: [SafetensorsFile] = []
        var index: [String: (shard: Int, info: SafetensorsTensorInfo)] = [:]
        for (position, file) in files.names.enumerated() {
            let shardPath = (path as NSString).appendingPathComponent(file)
            guard FileManager.default.fileExists(atPath: shardPath) else { throw .missingShard(file: file, directory: path) }
            let shard: SafetensorsFile
            do { shard = try SafetensorsFile(path: shardPath) } catch { throw .shard(file: shardPath, error) }
            for tensor in shard.tensors where index[tensor.name] == nil { index[tensor.name] = (position, tensor) }
            shards.append(shard)
        }
        for (tensor, file) in files.map ?? [:] {
            let position = files.names.firstIndex(of: file)!
            guard let found = index[tensor], found.shard == position else {
                throw .tensorNotInShard(tensor: tensor, shard: file)
            }
        }
        self.shards = shards
        self.index = index
    }

    /// The weight file names: the single file, or the index's shards (sorted) with its map.
    private static func weightFiles(in path: String) throws(HuggingFaceError) -> (names: [String], map: [String: String]?) {
        let indexPath = (path as NSString).appendingPathComponent(indexFile)
        guard let data = FileManager.default.contents(atPath: indexPath) else {
            let single = (path as NSString).appendingPathComponent(singleWeightsFile)
            guard FileManager.default.fileExists(atPath: single) else { throw .noWeights(directory: path) }
            return ([singleWeightsFile], nil)
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let map = object["weight_map"] as? [String: String] else {
            throw .invalidIndex(path: indexPath, reason: "expected {\"weight_map\": {tensor: shard file}}")
        }
        let names = Set(map.values).sorted()
        if let bad = names.first(where: { $0.isEmpty || $0.contains("/") || $0 == ".." || !$0.hasSuffix(".safetensors") }) {
            throw .invalidIndex(path: indexPath, reason: "shard '\(bad)' is not a .safetensors file name in the directory")
        }
        return (names, map)
    }

    /// All tensors of all shards.
    public var tensors: [SafetensorsTensorInfo] { shards.flatMap(\.tensors) }

    /// The tensor `name` and the shard holding it, or nil.
    public func tensor(named name: String) -> (file: SafetensorsFile, info: SafetensorsTensorInfo)? {
        index[name].map { (shards[$0.shard], $0.info) }
    }
}
