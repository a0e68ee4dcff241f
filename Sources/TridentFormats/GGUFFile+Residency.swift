#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension GGUFFile {
    /// Drops the whole file's pages from this process's resident set (`madvise(MADV_DONTNEED)`).
    ///
    /// Views into the mapping stay valid (pages are read back from the file if touched
    /// again), but memory this rank no longer uses is not counted against it.
    public func releaseResidentPages() {
        release(byteRange: 0 ..< file.bytes.count)
    }

    /// Drops the pages holding `tensor`'s data (call after copying the slice a rank needs).
    public func releaseResidentPages(of tensor: GGUFTensorInfo) {
        release(byteRange: tensor.fileRange)
    }

    private func release(byteRange: Range<Int>) {
        guard let base = file.bytes.baseAddress, !byteRange.isEmpty,
              byteRange.upperBound <= file.bytes.count else { return }
        let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
        // Only whole pages inside the range: a neighbour tensor sharing a page keeps it.
        let start = (UInt(bitPattern: base) + UInt(byteRange.lowerBound) + page - 1) & ~(page - 1)
        let end = (UInt(bitPattern: base) + UInt(byteRange.upperBound)) & ~(page - 1)
        guard end > start else { return }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: start), Int(end - start), MADV_DONTNEED)
    }
}
