import Foundation

/// `DIR/training/manifest.json`: what a checkpoint continues from, and what a resumed run
/// must match (model, layout, data, settings).
public struct TrainingManifest: Codable, Sendable, Equatable {
    /// One parameter's identity: GGUF name and full shape.
    public struct ParameterShape: Codable, Sendable, Equatable {
        public var name: String
        public var shape: [Int]
        public init(name: String, shape: [Int]) { self.name = name; self.shape = shape }
    }

    public var formatVersion = 1
    /// Optimizer steps completed when saved.
    public var step: Int
    public var tensorParallel: Int
    public var pipelineParallel: Int
    public var dataParallel: Int
    public var configuration: TrainingConfiguration
    /// Tokens in the data stream and an FNV-1a hash of them.
    public var dataTokens: Int
    public var dataHash: UInt64
    /// The model's parameters (world rank 0's names with global shapes).
    public var parameters: [ParameterShape]

    public init(session: TrainingSession) {
        step = session.completedSteps
        let layout = session.groups.layout
        tensorParallel = layout.tensor
        pipelineParallel = layout.pipeline
        dataParallel = layout.data
        configuration = session.configuration
        dataTokens = session.tokens.count
        dataHash = Self.hash(session.tokens)
        parameters = session.model.parameters.map { ParameterShape(name: $0.name, shape: $0.globalShape) }
    }

    /// FNV-1a over the tokens' little-endian bytes.
    public static func hash(_ tokens: [Int32]) -> UInt64 {
        var value: UInt64 = 0xcbf29ce484222325
        for token in tokens {
            withUnsafeBytes(of: token.littleEndian) { for byte in $0 { value = (value ^ UInt64(byte)) &* 0x100000001b3 } }
        }
        return value
    }

    /// Writes the manifest atomically (world rank 0, after every rank's state file).
    public func write(checkpoint: String) throws {
        try FileManager.default.createDirectory(atPath: TrainingState.directory(checkpoint), withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: TrainingState.manifestPath(checkpoint)), options: .atomic)
    }

    /// Reads `checkpoint`'s manifest. - Throws: `TrainingError.invalidValue` naming the file.
    public static func read(checkpoint: String) throws -> TrainingManifest {
        let path = TrainingState.manifestPath(checkpoint)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainingError.invalidValue(name: "--resume", expected: "a checkpoint directory with \(path)",
                                             found: "no such file")
        }
        do { return try JSONDecoder().decode(TrainingManifest.self, from: data) } catch {
            throw TrainingError.invalidValue(name: "--resume", expected: "a Trident training manifest in \(path)",
                                             found: "unreadable JSON")
        }
    }

    /// Why `session` cannot continue from this manifest, or nil when it can.
    public func mismatch(with session: TrainingSession) -> String? {
        let current = TrainingManifest(session: session)
        if parameters != current.parameters {
            return "it was saved from another model (\(parameters.count) parameters, first \(parameters.first?.name ?? "none"))"
        }
        if (tensorParallel, pipelineParallel, dataParallel) != (current.tensorParallel, current.pipelineParallel, current.dataParallel) {
            return "it was saved on --tp \(tensorParallel) --pp \(pipelineParallel) --dp \(dataParallel); resume on the same layout"
        }
        if dataTokens != current.dataTokens || dataHash != current.dataHash {
            return "it was trained on other data (\(dataTokens) tokens, now \(current.dataTokens))"
        }
        if let flag = session.configuration.difference(from: configuration) { return "\(flag) differs from the saved run" }
        if step >= session.configuration.steps {
            return "it has already done \(step) steps; --steps \(session.configuration.steps) leaves none to do"
        }
        return nil
    }
}
