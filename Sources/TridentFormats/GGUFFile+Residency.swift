#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension GGUFFile {
    /// Drops the file's pages from this process's resident set (`madvise(MADV_DONTNEED)`).
    ///
    /// Call it after copying the slices a rank needs: views into the mapping stay valid (pages
    /// are read back from the file if touched again), but memory this rank no longer uses is
    /// not counted against it.
    public func releaseResidentPages() {
        guard let base = file.bytes.baseAddress, file.bytes.count > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = UInt(bitPattern: base) & ~UInt(page - 1)
        let end = UInt(bitPattern: base) + UInt(file.bytes.count)
        _ = madvise(UnsafeMutableRawPointer(bitPattern: start), Int(end - start), MADV_DONTNEED)
    }
}
