#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TridentKernels

extension SafetensorsFile {
    /// Copies the `[rows, columns]` slice of the row-major matrix `tensor` (`[rows, columns]`
    /// as `matrix(named:)` views it) into `destination` with `pread`, not through the mapping,
    /// so the file's pages never enter this process's resident set.
    /// - Parameters:
    ///   - tensor: a tensor of this file with a kernel `DType` (F32, F16, BF16).
    ///   - destination: exactly `rows.count * columns.count * dtype.size` bytes.
    /// - Throws: `unsupportedDType`, `cannotOpen` when the file cannot be read, `truncated`
    ///   when it is now shorter than its header says.
    public func readSlice(of tensor: SafetensorsTensorInfo, rows: Range<Int>, columns: Range<Int>,
                          into destination: UnsafeMutableRawBufferPointer) throws(SafetensorsError) {
        guard tensor.dtype.dtype != nil else { throw .unsupportedDType(tensor: tensor.name, dtype: tensor.dtype) }
        precondition(self.tensor(named: tensor.name) == tensor, "tensor '\(tensor.name)' does not belong to \(path)")
        let totalColumns = tensor.shape.last ?? 1
        let totalRows = tensor.elementCount / max(totalColumns, 1)
        precondition(rows.lowerBound >= 0 && rows.upperBound <= totalRows && columns.lowerBound >= 0
                     && columns.upperBound <= totalColumns, "slice \(rows) x \(columns) outside \(tensor.shape)")
        let size = tensor.dtype.size
        let stride = totalColumns * size, sliceRowBytes = columns.count * size
        precondition(destination.count == rows.count * sliceRowBytes, "destination does not hold the slice")
        guard let target = destination.baseAddress, !destination.isEmpty else { return }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: "open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let first = tensor.fileOffset + rows.lowerBound * stride + columns.lowerBound * size
        if sliceRowBytes == stride {
            try Self.readFully(fd, into: target, count: destination.count, at: first, path: path)
        } else {
            for r in 0 ..< rows.count {
                try Self.readFully(fd, into: target + r * sliceRowBytes, count: sliceRowBytes, at: first + r * stride,
                                   path: path)
            }
        }
    }

    /// `pread` until `count` bytes have arrived (a read may return fewer).
    private static func readFully(_ fd: Int32, into target: UnsafeMutableRawPointer, count: Int, at offset: Int,
                                  path: String) throws(SafetensorsError) {
        var done = 0
        while done < count {
            let n = pread(fd, target + done, count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw .cannotOpen(path: path, reason: "pread at offset \(offset + done): \(String(cString: strerror(errno)))")
            }
            guard n > 0 else { throw .truncated(fileSize: offset + done) }
            done += n
        }
    }
}
