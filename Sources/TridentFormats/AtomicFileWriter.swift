#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(Glibc)
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
private let systemWrite = Darwin.write
#endif

/// Why a file could not be written.
public enum FileWriteError: Error, Sendable, CustomStringConvertible {
    /// A system call failed; `operation` names it and the path, `reason` is the `errno` text.
    case failed(operation: String, path: String, reason: String)

    public var description: String {
        switch self {
        case .failed(let operation, let path, let reason): return "\(operation) '\(path)' failed: \(reason)"
        }
    }
}

/// Writes a file atomically: the bytes go to a temporary file in the destination's
/// directory, which is flushed (`fsync`) and then renamed over the destination, so readers
/// see either the old file or the complete new one, never a partial file.
struct AtomicFileWriter {
    let path: String
    private let temporaryPath: String
    private var descriptor: Int32

    /// Creates the temporary file next to `path`.
    init(path: String) throws(FileWriteError) {
        self.path = path
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        temporaryPath = "\(directory)/.\(name).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Self.failure("create", temporaryPath) }
    }

    /// Appends `bytes` to the temporary file.
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(FileWriteError) {
        var written = 0
        while written < bytes.count {
            let result = systemWrite(descriptor, bytes.baseAddress! + written, bytes.count - written)
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else {
                let error = Self.failure("write", temporaryPath)
                discard()
                throw error
            }
            written += result
        }
    }

    /// Flushes the temporary file and renames it over `path`.
    mutating func commit() throws(FileWriteError) {
        guard fsync(descriptor) == 0 else {
            let error = Self.failure("fsync", temporaryPath)
            discard()
            throw error
        }
        close(descriptor)
        descriptor = -1
        guard rename(temporaryPath, path) == 0 else {
            let error = Self.failure("rename to \(path)", temporaryPath)
            unlink(temporaryPath)
            throw error
        }
        syncDirectory()
    }

    /// Closes and removes the temporary file (after a failure, or to abandon the write).
    mutating func discard() {
        if descriptor >= 0 { close(descriptor); descriptor = -1 }
        unlink(temporaryPath)
    }

    /// Best effort: make the rename itself durable.
    private func syncDirectory() {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let fd = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_CLOEXEC)
        if fd >= 0 { _ = fsync(fd); close(fd) }
    }

    private static func failure(_ operation: String, _ path: String) -> FileWriteError {
        .failed(operation: operation, path: path, reason: String(cString: strerror(errno)))
    }
}
