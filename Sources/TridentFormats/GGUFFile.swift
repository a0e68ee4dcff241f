import TridentKernels

/// A GGUF model file (version 2 or 3), memory-mapped read-only.
///
/// Opening parses the header, all metadata and the tensor table, and checks every length,
/// count, shape, alignment and data range against the file before reading or allocating;
/// a malformed file throws `GGUFError` naming the field and offset. Tensor data is never
/// copied: `bytes(of:)` and `matrix(named:)` view the mapping, which stays alive while any
/// such view (or this object) exists. Immutable and safe to share between threads.
///
/// ```swift
/// let file = try GGUFFile(path: "models/SmolLM2-135M-Instruct.Q4_1.gguf")
/// let layers = try file.int("llama.block_count")            // 30
/// let wq = try file.matrix(named: "blk.0.attn_q.weight")     // 576 x 576, q4_1
/// ```
public final class GGUFFile: Sendable {
    /// The path the file was opened from.
    public let path: String
    /// The GGUF format version (2 or 3).
    public let version: UInt32
    /// All metadata key/value pairs.
    public let metadata: [String: GGUFValue]
    /// The metadata keys in file order.
    public let metadataKeys: [String]
    /// The tensor table in file order.
    public let tensors: [GGUFTensorInfo]
    /// The data alignment (`general.alignment`, default 32).
    public let alignment: Int
    /// Absolute file offset where the tensor data section starts.
    public let dataOffset: Int

    let file: MappedFile
    private let tensorIndex: [String: Int]

    /// Maps and parses the file at `path`.
    /// - Throws: `GGUFError.cannotOpen` if it cannot be mapped, another `GGUFError` case if
    ///   it is not a well-formed GGUF v2/v3 file.
    public init(path: String) throws(GGUFError) {
        do {
            file = try MappedFile(path: path)
        } catch {
            throw .cannotOpen(path: path, reason: error.reason)
        }
        var parser = GGUFParser(file.bytes)
        let parsed = try parser.parse()
        self.path = path
        version = parsed.version
        metadata = parsed.metadata
        metadataKeys = parsed.metadataKeys
        tensors = parsed.tensors
        alignment = parsed.alignment
        dataOffset = parsed.dataOffset
        var index: [String: Int] = [:]
        for (position, tensor) in parsed.tensors.enumerated() { index[tensor.name] = position }
        tensorIndex = index
    }

    /// The file size in bytes.
    public var fileSize: Int { file.bytes.count }

    /// `general.architecture`, e.g. `llama`.
    public var architecture: String {
        get throws(GGUFError) { try string("general.architecture") }
    }

    /// The tensor named `name`, or `nil`.
    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The raw bytes of `tensor`, viewed in the mapping (valid while this file is alive).
    /// `tensor` must come from this file's `tensors`.
    public func bytes(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        precondition(tensorIndex[tensor.name].map { tensors[$0] } == tensor,
                     "tensor '\(tensor.name)' does not belong to \(path)")
        return UnsafeRawBufferPointer(rebasing: file.bytes[tensor.fileRange])
    }
}
