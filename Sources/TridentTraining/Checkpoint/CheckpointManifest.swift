import Foundation

/// `step-N/manifest.json` of a sharded checkpoint: what every data file holds (which slice of
/// which tensor), how the run that wrote it was laid out, and everything a resumed run needs to
/// continue exactly: step, data position, random streams, optimizer and schedule state.
///
/// Every tensor is float32 `[rows, columns]` row-major (a vector is `[n]`, read as `[n, 1]`).
/// A slice `(rows, columns)` of tensor `name` is stored in its file under three keys:
/// `key + ".value"`, `key + ".exp_avg"` and `key + ".exp_avg_sq"` (AdamW's moments), each
/// `[rows.count, columns.count]` F32. Slices of one tensor are disjoint or identical.
public struct CheckpointManifest: Codable, Sendable, Equatable {
    public static let fileName = "manifest.json"
    public static let formatName = "trident-sharded-checkpoint"
    public static let currentVersion = 1

    /// The process grid of the run that wrote the checkpoint (informative: any layout can read it).
    public struct Layout: Codable, Sendable, Equatable {
        public var tensorParallel: Int
        public var pipelineParallel: Int
        public var dataParallel: Int
        /// Per tensor rank: `[first, end)` query heads and KV heads (nil for a model without heads).
        public var queryHeads: [[Int]]?
        public var kvHeads: [[Int]]?
        /// Per pipeline stage: the tensor names it held (nil: one stage held everything).
        public var stageTensors: [[String]]?
        /// 1 when the data-parallel replicas sharded the AdamW moments (ZeRO-1): each wrote the
        /// elements whose moments it held, as ordinary slices (nil or absent: 0).
        public var zeroStage: Int? = nil
    }

    /// Where the run is in its token stream.
    public struct DataPosition: Codable, Sendable, Equatable {
        /// Tokens of the stream and the FNV-1a hash of their little-endian bytes (hex).
        public var tokens: Int
        public var hash: String
        /// Sequences consumed so far (`step × globalBatch`): the next step starts at this global position.
        public var sequencesConsumed: Int
    }

    /// The random streams. All are counter-based (a seed and a position, no hidden state):
    /// the data permutation is keyed by (seed, pass), dropout masks by (seed, step, sequence).
    public struct RandomState: Codable, Sendable, Equatable {
        public var kind = "counter-based"
        public var seed: UInt64
        public var shuffle: Bool
        public var dropout: Float
        /// The step the streams continue at.
        public var nextStep: Int
    }

    /// AdamW's state beyond the moments in the data files.
    public struct OptimizerState: Codable, Sendable, Equatable {
        public var name = "AdamW"
        public var stepCount: Int
        /// The rate applied at `step` and the one the next step will use.
        public var lastLearningRate: Double
        public var nextLearningRate: Double
    }

    /// The metrics of the step the checkpoint was taken after (nil when none ran in this process).
    public struct Metrics: Codable, Sendable, Equatable {
        public var loss: Double
        public var learningRate: Double
        public var gradientNorm: Double
    }

    /// One tensor of the model: its global name, shape and element type.
    public struct Tensor: Codable, Sendable, Equatable {
        public var name: String
        public var shape: [Int]
        public var dtype = "F32"
    }

    /// One slice of one tensor inside a data file.
    public struct Slice: Codable, Sendable, Equatable {
        public var name: String
        public var rows: [Int]
        public var columns: [Int]
        public var key: String
        public var region: TensorRegion { TensorRegion(rows: rows[0] ..< rows[1], columns: columns[0] ..< columns[1]) }
    }

    /// One file of the checkpoint directory.
    public struct File: Codable, Sendable, Equatable {
        /// Name inside the step directory (no `/`).
        public var path: String
        public var bytes: Int
        /// CRC-32C of the whole file, 8 hex digits.
        public var crc32c: String
        /// The world rank that wrote it.
        public var rank: Int
        /// The slices it holds (empty for a file that is not tensor data).
        public var slices: [Slice]
    }

    public var format = formatName
    public var formatVersion = currentVersion
    /// Optimizer steps completed.
    public var step: Int
    /// When the checkpoint was written, ISO 8601 UTC.
    public var timestamp: String
    public var worldSize: Int
    public var layout: Layout
    /// The run's settings (micro-batch and accumulation as the writing layout used them).
    public var configuration: TrainingConfiguration
    /// Sequences per optimizer step (`--global-batch`); a resumed run must use the same.
    public var globalBatch: Int
    public var data: DataPosition
    public var random: RandomState
    public var optimizer: OptimizerState
    public var metrics: Metrics?
    public var tensors: [Tensor]
    public var files: [File]

    /// The manifest as pretty JSON (keys sorted).
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Reads and checks `directory/manifest.json`: its format, and that every file is a plain
    /// name and every slice lies inside a listed tensor.
    /// - Throws: `CheckpointError.notACheckpoint` (no file) or `.badManifest` naming the file.
    public static func read(directory: String) throws -> CheckpointManifest {
        let path = directory + "/" + fileName
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError.notACheckpoint(path: directory, found: "\(path) is missing")
        }
        let manifest: CheckpointManifest
        do { manifest = try JSONDecoder().decode(CheckpointManifest.self, from: data) } catch {
            throw CheckpointError.badManifest(path: path, reason: "not a checkpoint manifest (\(Self.describe(error)))")
        }
        try manifest.check(path: path)
        return manifest
    }

    private func check(path: String) throws {
        func bad(_ reason: String) -> CheckpointError { .badManifest(path: path, reason: reason) }
        guard format == Self.formatName else { throw bad("format '\(format)', expected '\(Self.formatName)'") }
        guard formatVersion == Self.currentVersion else { throw bad("format version \(formatVersion), expected \(Self.currentVersion)") }
        guard step >= 0, globalBatch >= 1, worldSize >= 1 else { throw bad("step \(step), global batch \(globalBatch), world size \(worldSize)") }
        var shapes: [String: [Int]] = [:]
        for tensor in tensors {
            guard (1 ... 2).contains(tensor.shape.count), tensor.shape.allSatisfy({ $0 >= 0 }), tensor.dtype == "F32",
                  shapes.updateValue(tensor.shape, forKey: tensor.name) == nil else {
                throw bad("tensor \(tensor.name): shape \(tensor.shape) \(tensor.dtype) (or listed twice)")
            }
        }
        for file in files {
            guard !file.path.isEmpty, !file.path.contains("/"), file.path != "..", file.path != ".", file.bytes >= 0,
                  UInt32(file.crc32c, radix: 16) != nil else {
                throw bad("file entry '\(file.path)' (\(file.bytes) bytes, crc32c '\(file.crc32c)')")
            }
            for slice in file.slices {
                guard let shape = shapes[slice.name], slice.rows.count == 2, slice.columns.count == 2,
                      0 <= slice.rows[0], slice.rows[0] <= slice.rows[1], slice.rows[1] <= shape[0],
                      0 <= slice.columns[0], slice.columns[0] <= slice.columns[1],
                      slice.columns[1] <= (shape.count == 2 ? shape[1] : 1) else {
                    throw bad("slice of '\(slice.name)' in \(file.path): rows \(slice.rows), columns \(slice.columns) outside the tensor")
                }
            }
        }
    }

    /// A short description of a decoding error (the key path and what was wrong).
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        switch error {
        case .dataCorrupted(let context): return "invalid JSON" + where_(context)
        case .keyNotFound(let key, let context): return "missing key '\(key.stringValue)'" + where_(context)
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return context.debugDescription + where_(context)
        @unknown default: return "\(error)"
        }
    }

    private static func where_(_ context: DecodingError.Context) -> String {
        let path = context.codingPath.map(\.stringValue).joined(separator: ".")
        return path.isEmpty ? "" : " at \(path)"
    }

    /// FNV-1a over the tokens' little-endian bytes, 16 hex digits.
    public static func hash(_ tokens: [Int32]) -> String {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for token in tokens {
            withUnsafeBytes(of: token.littleEndian) { for byte in $0 { value = (value ^ UInt64(byte)) &* 0x100_0000_01b3 } }
        }
        return String(value, radix: 16)
    }
}
