import Foundation
import Testing
import TridentFormats

/// Corrupts a tiny model with seeded random byte edits; every variant must either parse or
/// throw `GGUFError` (a crash fails the whole test run).
struct GGUFFuzzTests {
    /// SplitMix64: a small deterministic generator, so failures reproduce.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func randomByteCorruptionNeverCrashes() throws {
        let directory = try TemporaryDirectory()
        let original = Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("tiny-llama-q4_1.gguf"))))
        let headerEnd = 5600  // gguf-py: r.data_offset; edits after it cannot change the parse
        var generator = SplitMix64(state: 0x5EED)
        var parsed = 0, rejected = 0
        let path = directory.url.appendingPathComponent("fuzz.gguf").path
        for _ in 0 ..< 300 {
            var bytes = original
            for _ in 0 ..< Int.random(in: 1 ... 4, using: &generator) {
                let at = Int.random(in: 0 ..< headerEnd, using: &generator)
                switch Int.random(in: 0 ..< 3, using: &generator) {
                case 0: bytes[at] ^= UInt8(1) << UInt8.random(in: 0 ..< 8, using: &generator)
                case 1: bytes[at] = UInt8.random(in: 0 ... 255, using: &generator)
                default: bytes[at] = [0x00, 0xFF, 0x7F, 0x80].randomElement(using: &generator)!
                }
            }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                let file = try GGUFFile(path: path)
                for tensor in file.tensors {
                    #expect(tensor.fileRange.upperBound <= file.fileSize)
                    if tensor.type.dtype != nil, tensor.elementCount <= 1 << 20 { _ = try file.floats(named: tensor.name) }
                }
                parsed += 1
            } catch {
                rejected += 1
            }
        }
        #expect(parsed + rejected == 300)
        #expect(rejected > 0, "some corruptions must be detected")
    }
}
