#if canImport(Glibc)
import Glibc
#endif

/// A POSIX shared-memory segment (`shm_open` + `mmap`) mapped into this process.
/// The creator unlinks the name once every user has mapped it, so nothing outlives the job.
final class SharedMemorySegment: @unchecked Sendable {
    let name: String
    let base: UnsafeMutableRawPointer
    let byteCount: Int

    private init(name: String, base: UnsafeMutableRawPointer, byteCount: Int) {
        self.name = name
        self.base = base
        self.byteCount = byteCount
    }

    deinit { munmap(base, byteCount) }

    /// Creates (replacing a stale segment of the same name) a zero-filled segment.
    static func create(name: String, byteCount: Int) throws(TCPSocketError) -> SharedMemorySegment {
        shm_unlink(name)
        let fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0o600)
        guard fd >= 0 else { throw .system("shm_open(\(name))") }
        defer { close(fd) }
        guard ftruncate(fd, off_t(byteCount)) == 0 else {
            let error = TCPSocketError.system("ftruncate(\(name), \(byteCount))")
            shm_unlink(name)
            throw error
        }
        return try map(fd: fd, name: name, byteCount: byteCount)
    }

    /// Opens a segment another process created.
    static func open(name: String, byteCount: Int) throws(TCPSocketError) -> SharedMemorySegment {
        let fd = shm_open(name, O_RDWR, 0o600)
        guard fd >= 0 else { throw .system("shm_open(\(name))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, Int(info.st_size) >= byteCount else {
            throw TCPSocketError(kind: .system, detail: "shared memory \(name) is smaller than \(byteCount) bytes")
        }
        return try map(fd: fd, name: name, byteCount: byteCount)
    }

    /// Removes the name (mappings stay valid).
    func unlink() { shm_unlink(name) }

    private static func map(fd: Int32, name: String, byteCount: Int) throws(TCPSocketError) -> SharedMemorySegment {
        let address = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let address, address != MAP_FAILED else { throw .system("mmap(\(name))") }
        return SharedMemorySegment(name: name, base: address, byteCount: byteCount)
    }
}
