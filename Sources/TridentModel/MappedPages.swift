import Foundation
import TridentKernels

/// Resident pages of a read-only file mapping that a rank no longer reads.
enum MappedPages {
    /// Drops this process's mapping of the whole pages under `view` (a view into a read-only
    /// file mapping, copied elsewhere, e.g. repacked): they leave the resident set, and
    /// would be read back from the file if touched again, so this is always safe.
    static func release(_ view: WeightMatrix) {
        guard view.rows > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = Int(bitPattern: view.base)
        let end = start + (view.rows - 1) * view.rowStride + view.dtype.rowBytes(view.columns)
        let first = (start + page - 1) / page * page, last = end / page * page
        guard last > first, let address = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(address, last - first, MADV_DONTNEED)
    }
}
