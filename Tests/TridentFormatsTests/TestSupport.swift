import Foundation
import Testing
import TridentFormats

/// Paths of shared fixtures and the real model, found relative to this file.
enum Fixtures {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    static let directory = testsDirectory.appendingPathComponent("Fixtures")
    static let repository = testsDirectory.deletingLastPathComponent()

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// SmolLM2-135M-Instruct Q4_1, when `models/` has it (git-ignored; CI fetches it).
    static var smolLM2: String? {
        let path = repository.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }
}

/// A private temporary directory, removed on `deinit`.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("trident-formats-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes `bytes` to a new file and returns its path.
    func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = url.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// Builds GGUF byte images field by field, including malformed ones the writer refuses to make.
struct RawGGUF {
    var bytes: [UInt8] = []

    mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    mutating func string(_ text: String) { u64(UInt64(text.utf8.count)); bytes += Array(text.utf8) }
    mutating func magic() { bytes += Array("GGUF".utf8) }

    /// `GGUF`, version, tensor count, key count.
    static func header(version: UInt32 = 3, tensors: UInt64, keys: UInt64) -> RawGGUF {
        var raw = RawGGUF()
        raw.magic(); raw.u32(version); raw.u64(tensors); raw.u64(keys)
        return raw
    }

    /// A tensor table entry.
    mutating func tensor(_ name: String, ne: [UInt64], type: UInt32, offset: UInt64) {
        string(name); u32(UInt32(ne.count)); for d in ne { u64(d) }; u32(type); u64(offset)
    }

    /// Zero bytes up to the next multiple of `alignment`, then `count` data bytes.
    mutating func data(alignment: Int = 32, count: Int) {
        bytes += [UInt8](repeating: 0, count: (alignment - bytes.count % alignment) % alignment)
        bytes += [UInt8](repeating: 0x3C, count: count)
    }
}

/// Opens `bytes` as a GGUF file and returns the error it throws (failing if none).
func ggufError(_ bytes: [UInt8], in directory: TemporaryDirectory,
               sourceLocation: SourceLocation = #_sourceLocation) throws -> GGUFError? {
    let path = try directory.file("bad-\(UUID().uuidString).gguf", bytes)
    return #expect(throws: GGUFError.self, sourceLocation: sourceLocation) { _ = try GGUFFile(path: path) }
}
