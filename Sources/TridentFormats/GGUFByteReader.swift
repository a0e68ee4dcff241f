/// A little-endian cursor over a GGUF file's bytes. Every read checks the remaining length
/// first and throws `GGUFError` naming the field and offset; nothing reads out of bounds.
struct GGUFByteReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    /// Throws unless `count` more bytes are available at the cursor.
    func require(_ count: Int, _ field: @autoclosure () -> String) throws(GGUFError) {
        guard count <= remaining else {
            throw .truncated(field: field(), offset: offset, needed: count, fileSize: bytes.count)
        }
    }

    mutating func read<T: FixedWidthInteger>(_ type: T.Type, _ field: @autoclosure () -> String) throws(GGUFError) -> T {
        try require(MemoryLayout<T>.size, field())
        let value = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: value)
    }

    mutating func readFloat(_ field: @autoclosure () -> String) throws(GGUFError) -> Float {
        Float(bitPattern: try read(UInt32.self, field()))
    }

    mutating func readDouble(_ field: @autoclosure () -> String) throws(GGUFError) -> Double {
        Double(bitPattern: try read(UInt64.self, field()))
    }

    /// Reads a `uint64` length followed by that many UTF-8 bytes.
    mutating func readString(_ field: @autoclosure () -> String) throws(GGUFError) -> String {
        let start = offset
        let length = try read(UInt64.self, field())
        guard length <= UInt64(remaining) else {
            throw .stringTooLong(field: field(), offset: start, length: length, available: remaining)
        }
        let count = Int(length)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + count])
        guard let text = String(validating: slice, as: UTF8.self) else {
            throw .invalidUTF8(field: field(), offset: start)
        }
        offset += count
        return text
    }

    /// Reads a `uint64` count of items each at least `minimumSize` bytes long, checking
    /// that so many items could fit in the rest of the file before anything is allocated.
    mutating func readCount(_ field: @autoclosure () -> String, minimumSize: Int,
                            isArray: Bool) throws(GGUFError) -> Int {
        let start = offset
        let count = try read(UInt64.self, field())
        let (needed, overflow) = count.multipliedReportingOverflow(by: UInt64(minimumSize))
        guard !overflow, needed <= UInt64(remaining) else {
            if isArray { throw .arrayTooLong(field: field(), offset: start, count: count, available: remaining) }
            throw .countTooLarge(field: field(), offset: start, count: count, available: remaining)
        }
        return Int(count)
    }

    /// Moves the cursor to `target` (which must be within the file).
    mutating func seek(to target: Int) {
        precondition(target >= 0 && target <= bytes.count)
        offset = target
    }
}
