import Foundation
import Testing
@testable import TridentTraining

@Suite("Checkpoint primitives")
struct CheckpointPrimitivesTests {
    @Test("CRC-32C of the standard check string and of zeros; the streaming update equals one pass")
    func crc32c() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        // RFC 3720 B.4: 32 bytes of zeros.
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        let bytes = (0 ..< 1000).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        var crc = CRC32C()
        bytes.withUnsafeBytes { all in
            crc.update(UnsafeRawBufferPointer(rebasing: all[0 ..< 13]))
            crc.update(UnsafeRawBufferPointer(rebasing: all[13 ..< 1000]))
        }
        #expect(crc.value == CRC32C.checksum(bytes))
    }

    @Test("region intersection and copy agree with element-by-element indexing")
    func regionCopy() {
        let full = TensorRegion(rows: 0 ..< 7, columns: 0 ..< 5)
        let values = (0 ..< full.count).map(Float.init)        // element (r, c) = r * 5 + c
        let source = TensorRegion(rows: 2 ..< 6, columns: 1 ..< 5)
        let stored = source.rows.flatMap { r in source.columns.map { c in values[r * 5 + c] } }
        let wanted = TensorRegion(rows: 4 ..< 7, columns: 0 ..< 3)
        let part = try! #require(wanted.intersection(source))
        #expect(part == TensorRegion(rows: 4 ..< 6, columns: 1 ..< 3))
        #expect(wanted.intersection(TensorRegion(rows: 0 ..< 4, columns: 0 ..< 5)) == nil)
        var out = [Float](repeating: -1, count: wanted.count)
        stored.withUnsafeBytes { raw in out.withUnsafeMutableBufferPointer { wanted.copy(part, from: raw.baseAddress!, laidOutAs: source, into: $0.baseAddress!) } }
        for r in wanted.rows {
            for c in wanted.columns {
                let expected: Float = part.rows.contains(r) && part.columns.contains(c) ? Float(r * 5 + c) : -1
                #expect(out[(r - 4) * 3 + c] == expected, "(\(r), \(c))")
            }
        }
    }
}
