#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TridentKernels

/// A whole file mapped read-only (`PROT_READ`, `MAP_PRIVATE`); unmapped when the last
/// reference goes away. Weight views keep it alive through `WeightMatrix.owner`.
final class MappedFile: WeightStorageOwner, @unchecked Sendable {
    /// Why a file could not be mapped: the failing call and its `errno` text.
    struct OpenFailure: Error { let reason: String }

    /// The mapped bytes (empty, with no mapping, for an empty file).
    let bytes: UnsafeRawBufferPointer
    let path: String

    init(path: String) throws(OpenFailure) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw OpenFailure(reason: "open: \(Self.errnoText())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw OpenFailure(reason: "fstat: \(Self.errnoText())") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw OpenFailure(reason: "not a regular file") }
        let size = Int(info.st_size)
        self.path = path
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let address, address != MAP_FAILED else {
            throw OpenFailure(reason: "mmap of \(size) bytes: \(Self.errnoText())")
        }
        bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(address), count: size)
    }

    deinit {
        if let base = bytes.baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        }
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
