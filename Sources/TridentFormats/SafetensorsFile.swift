import Foundation
import TridentKernels

/// A safetensors file, memory-mapped read-only.
///
/// Layout: a little-endian `uint64` header length `n`, `n` bytes of JSON
/// (`{"name": {"dtype": "F32", "shape": [r, c], "data_offsets": [begin, end]}, ...,
/// "__metadata__": {"k": "v"}}`), then the data section; offsets are relative to its start.
/// Every offset, shape and size is checked against the file on open. Immutable and safe to
/// share between threads; views keep the mapping alive.
public final class SafetensorsFile: Sendable {
    /// Largest JSON header accepted (as the reference implementation does).
    public static let maximumHeaderLength = 100_000_000

    /// The path the file was opened from.
    public let path: String
    /// The `__metadata__` string pairs (empty when absent).
    public let metadata: [String: String]
    /// All tensors, ordered by their position in the file.
    public let tensors: [SafetensorsTensorInfo]
    /// Absolute file offset of the data section (`8 + n`).
    public let dataOffset: Int

    let file: MappedFile
    private let tensorIndex: [String: Int]

    /// Maps and validates the file at `path`.
    /// - Throws: `SafetensorsError` naming the field at fault.
    public init(path: String) throws(SafetensorsError) {
        do {
            file = try MappedFile(path: path)
        } catch {
            throw .cannotOpen(path: path, reason: error.reason)
        }
        self.path = path
        let bytes = file.bytes
        guard bytes.count >= 8 else { throw .truncated(fileSize: bytes.count) }
        let length = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard length <= UInt64(min(bytes.count - 8, Self.maximumHeaderLength)) else {
            throw .headerTooLarge(length: length, fileSize: bytes.count, limit: Self.maximumHeaderLength)
        }
        dataOffset = 8 + Int(length)
        let header = try SafetensorsHeader(json: Data(bytes[8 ..< dataOffset]))
        metadata = header.metadata
        tensors = try header.validatedTensors(dataOffset: dataOffset, fileSize: bytes.count)
        var index: [String: Int] = [:]
        for (position, tensor) in tensors.enumerated() { index[tensor.name] = position }
        tensorIndex = index
    }

    /// The tensor named `name`, or `nil`.
    public func tensor(named name: String) -> SafetensorsTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The raw bytes of `tensor` in the mapping; `tensor` must come from this file.
    public func bytes(of tensor: SafetensorsTensorInfo) -> UnsafeRawBufferPointer {
        precondition(tensorIndex[tensor.name].map { tensors[$0] } == tensor,
                     "tensor '\(tensor.name)' does not belong to \(path)")
        return UnsafeRawBufferPointer(rebasing: file.bytes[tensor.fileRange])
    }

    /// The tensor `name` as a row-major matrix view (no copy): shape `[rows, columns]`
    /// (PyTorch `[out, in]`), or `[n]` as `1 x n`; leading dimensions of 1 are ignored.
    /// Data offsets are not guaranteed to be aligned to the element size.
    /// - Throws: `tensorNotFound`, `unsupportedDType` (F32/F16/BF16 only), `notAMatrix`.
    public func matrix(named name: String) throws(SafetensorsError) -> WeightMatrix {
        guard let info = tensor(named: name) else { throw .tensorNotFound(name) }
        guard let dtype = info.dtype.dtype else { throw .unsupportedDType(tensor: name, dtype: info.dtype) }
        var shape = Array(info.shape.drop { $0 == 1 })
        if shape.isEmpty { shape = [1] }
        guard shape.count <= 2 else { throw .notAMatrix(tensor: name, shape: info.shape) }
        let rows = shape.count == 2 ? shape[0] : 1
        let columns = shape.last!
        let base = file.bytes.baseAddress.map { $0 + info.fileOffset }
        guard let base else { throw .notAMatrix(tensor: name, shape: info.shape) }
        return WeightMatrix(base: base, rows: rows, columns: columns, dtype: dtype, owner: file)
    }
}
