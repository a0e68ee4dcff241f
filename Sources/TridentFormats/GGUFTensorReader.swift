#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TridentKernels

/// Reads slices of a GGUF file's tensors with `pread`, without a memory mapping.
///
/// It holds only the file's path and tensor table, not its metadata or mapping, so a rank
/// that copies just its own slices (tensor parallelism) can let the parsed `GGUFFile` go
/// before loading: neither the tokenizer's strings nor the file's pages then count
/// towards its resident memory. Immutable; safe to share between threads.
///
/// ```swift
/// let reader = GGUFTensorReader(try GGUFFile(path: path))   // the file can now be released
/// let info = reader.tensor(named: "blk.0.attn_q.weight")!
/// try reader.readSlice(of: info, rows: 0 ..< 320, columns: 0 ..< 576, into: buffer)
/// ```
public struct GGUFTensorReader: Sendable {
    /// The file the tensors are read from.
    public let path: String
    private let index: [String: GGUFTensorInfo]

    /// Copies `file`'s path and tensor table (a few kilobytes); keeps nothing else alive.
    public init(_ file: GGUFFile) {
        path = file.path
        var index: [String: GGUFTensorInfo] = [:]
        for tensor in file.tensors { index[tensor.name] = tensor }
        self.index = index
    }

    /// The tensor named `name`, or `nil`.
    public func tensor(named name: String) -> GGUFTensorInfo? { index[name] }

    /// Copies the `[rows, columns]` slice of the row-major matrix `tensor` into
    /// `destination`, packed: `rows.count` rows of `dtype.rowBytes(columns.count)` bytes.
    /// A slice of whole rows is one read; a column slice is one read per row.
    /// - Parameters:
    ///   - tensor: a tensor of this file whose type has a kernel `DType`, viewed as
    ///     `GGUFFile.matrix(named:)` views it (`ne = [columns, rows, 1, ...]`).
    ///   - rows: rows to copy, inside the tensor's rows.
    ///   - columns: columns to copy, on `dtype.blockSize` boundaries, inside the tensor's columns.
    ///   - destination: exactly `rows.count * dtype.rowBytes(columns.count)` bytes.
    /// - Throws: `GGUFError.unsupportedTensorType` for a type without a kernel `DType`,
    ///   `.cannotOpen` when the file cannot be opened or read, `.truncated` when it is now
    ///   shorter than its tensor table says.
    public func readSlice(of tensor: GGUFTensorInfo, rows: Range<Int>, columns: Range<Int>,
                          into destination: UnsafeMutableRawBufferPointer) throws(GGUFError) {
        guard let dtype = tensor.type.dtype else {
            throw .unsupportedTensorType(tensor: tensor.name, type: tensor.type)
        }
        precondition(index[tensor.name] == tensor, "tensor '\(tensor.name)' does not belong to \(path)")
        let totalColumns = tensor.shape[0]
        let totalRows = tensor.elementCount / max(totalColumns, 1)
        precondition(rows.lowerBound >= 0 && rows.upperBound <= totalRows, "rows \(rows) outside 0..<\(totalRows)")
        precondition(columns.lowerBound >= 0 && columns.upperBound <= totalColumns,
                     "columns \(columns) outside 0..<\(totalColumns)")
        precondition(columns.lowerBound % dtype.blockSize == 0 && columns.upperBound % dtype.blockSize == 0,
                     "column slice \(columns) does not fall on \(dtype) block boundaries")
        let stride = dtype.rowBytes(totalColumns)
        let sliceRowBytes = dtype.rowBytes(columns.count)
        precondition(destination.count == rows.count * sliceRowBytes,
                     "destination holds \(destination.count) bytes, the slice needs \(rows.count * sliceRowBytes)")
        guard let target = destination.baseAddress, !destination.isEmpty else { return }

        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: "open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let first = tensor.fileOffset + rows.lowerBound * stride
            + columns.lowerBound / dtype.blockSize * dtype.bytesPerBlock
        if sliceRowBytes == stride {
            try readFully(fd, into: target, count: destination.count, at: first, tensor: tensor.name)
        } else {
            for r in 0 ..< rows.count {
                try readFully(fd, into: target + r * sliceRowBytes, count: sliceRowBytes, at: first + r * stride,
                              tensor: tensor.name)
            }
        }
    }

    /// `pread` until `count` bytes have arrived (a read may return fewer).
    private func readFully(_ fd: Int32, into target: UnsafeMutableRawPointer, count: Int, at offset: Int,
                           tensor: String) throws(GGUFError) {
        var done = 0
        while done < count {
            let n = pread(fd, target + done, count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw .cannotOpen(path: path, reason: "pread of tensor '\(tensor)' at offset \(offset + done): "
                                  + String(cString: strerror(errno)))
            }
            guard n > 0 else {  // end of file: the file shrank since it was parsed
                throw .truncated(field: "tensor '\(tensor)' data", offset: offset + done,
                                 needed: count - done, fileSize: offset + done)
            }
            done += n
        }
    }
}
