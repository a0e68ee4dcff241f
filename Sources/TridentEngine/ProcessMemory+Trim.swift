#if canImport(Glibc)
import Glibc
#endif

extension ProcessMemory {
    /// Hands the allocator's free pages back to the system (glibc's `malloc_trim`), so memory
    /// freed in the middle of the heap (e.g. a parsed file's metadata) stops counting as
    /// resident. A no-op where the C library has no such call.
    public static func returnFreedMemory() {
        #if canImport(Glibc)
        // <malloc.h> is not part of the Glibc module: look the function up instead.
        typealias MallocTrim = @convention(c) (Int) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
        #endif
    }
}
