import Foundation
#if canImport(Glibc)
import Glibc
private let systemRename = Glibc.rename
#elseif canImport(Darwin)
import Darwin
private let systemRename = Darwin.rename
#endif

/// Writes a safetensors file straight from memory the caller owns (no image of the whole file
/// is built), in the layout `SafetensorsWriter` uses: the JSON header padded with spaces to a
/// multiple of 8 bytes, then the tensors contiguously in the order given. The file is written
/// to a temporary name, flushed (`fsync`) and renamed into place.
public enum SafetensorsStreamWriter {
    /// One tensor: row-major `shape`, and exactly `shape.product × dtype.size` bytes.
    public struct Entry {
        public var name: String
        public var dtype: SafetensorsDType
        public var shape: [Int]
        public var bytes: UnsafeRawBufferPointer

        public init(name: String, dtype: SafetensorsDType, shape: [Int], bytes: UnsafeRawBufferPointer) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }
    }

    /// Writes `entries` with `metadata` to `path`; `observe` sees every byte written, in order
    /// (for a checksum). - Returns: the file's size in bytes.
    /// - Throws: `FileWriteError` naming the system call and the path.
    @discardableResult
    public static func write(_ entries: [Entry], metadata: [String: String] = [:], to path: String,
                             observe: (UnsafeRawBufferPointer) -> Void = { _ in }) throws(FileWriteError) -> Int {
        var header = Array(headerJSON(entries, metadata: metadata).utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))
        var prefix: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { prefix.append(contentsOf: $0) }
        prefix.append(contentsOf: header)
        var file = try AtomicFileWriter(path: path)
        var total = 0
        func put(_ bytes: UnsafeRawBufferPointer) throws(FileWriteError) {
            try file.write(bytes)
            observe(bytes)
            total += bytes.count
        }
        var failure: FileWriteError?
        prefix.withUnsafeBytes { bytes in
            do throws(FileWriteError) { try put(bytes) } catch { failure = error }
        }
        if let failure { file.discard(); throw failure }
        for entry in entries {
            precondition(entry.bytes.count == entry.shape.reduce(1, *) * entry.dtype.size,
                         "tensor '\(entry.name)': \(entry.bytes.count) bytes do not match shape \(entry.shape)")
            try put(entry.bytes)
        }
        try file.commit()
        return total
    }

    private static func headerJSON(_ entries: [Entry], metadata: [String: String]) -> String {
        var header: [String: SafetensorsHeaderEntry] = [:]
        if !metadata.isEmpty { header["__metadata__"] = .metadata(metadata) }
        var offset = 0
        for entry in entries {
            precondition(entry.name != "__metadata__" && header[entry.name] == nil, "bad or repeated tensor name '\(entry.name)'")
            header[entry.name] = .tensor(dtype: entry.dtype.rawValue, shape: entry.shape, offsets: [offset, offset + entry.bytes.count])
            offset += entry.bytes.count
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Strings, integers and string maps only: encoding cannot fail.
        return String(decoding: try! encoder.encode(header), as: UTF8.self)
    }
}

/// Durable file-system steps for directories of files written with `AtomicFileWriter`.
public enum DurableFiles {
    /// Writes `bytes` to `path` atomically (temporary file, `fsync`, rename, `fsync` of the directory).
    public static func write(_ bytes: [UInt8], to path: String) throws(FileWriteError) {
        var file = try AtomicFileWriter(path: path)
        var failure: FileWriteError?
        bytes.withUnsafeBytes { raw in
            do throws(FileWriteError) { try file.write(raw) } catch { failure = error }
        }
        if let failure { file.discard(); throw failure }
        try file.commit()
    }

    /// `fsync` of a directory, so that the entries created or renamed in it are durable.
    public static func syncDirectory(_ path: String) throws(FileWriteError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .failed(operation: "open", path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .failed(operation: "fsync", path: path, reason: String(cString: strerror(errno))) }
    }

    /// Renames `from` to `to` (a directory onto a name that does not exist).
    public static func rename(_ from: String, to: String) throws(FileWriteError) {
        guard systemRename(from, to) == 0 else {
            throw .failed(operation: "rename to \(to)", path: from, reason: String(cString: strerror(errno)))
        }
    }
}
