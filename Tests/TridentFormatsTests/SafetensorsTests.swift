import Foundation
import Testing
import TridentFormats

struct SafetensorsTests {
    static func header(_ json: String, dataBytes: Int = 0) -> [UInt8] {
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian) { out += $0 }
        return out + Array(json.utf8) + [UInt8](repeating: 0, count: dataBytes)
    }

    static func error(_ bytes: [UInt8], in directory: TemporaryDirectory) throws -> SafetensorsError? {
        let path = try directory.file("bad-\(UUID().uuidString).safetensors", bytes)
        return #expect(throws: SafetensorsError.self) { _ = try SafetensorsFile(path: path) }
    }

    @Test func roundTrip() throws {
        let directory = try TemporaryDirectory()
        var writer = SafetensorsWriter()
        writer.addMetadata("format", "pt")
        writer.addMetadata("quote\"d", "a\nb")
        let weight: [Float] = (0 ..< 12).map { Float($0) - 5.5 }
        writer.addTensor(name: "layer.weight", dtype: .f32, shape: [3, 4], bytes: weight.withUnsafeBytes { Array($0) })
        writer.addTensor(name: "ids", dtype: .i32, shape: [2], bytes: [1, 0, 0, 0, 2, 0, 0, 0])
        writer.addTensor(name: "half", dtype: .bf16, shape: [1, 2], bytes: [0x80, 0x3F, 0x00, 0x40])
        writer.addTensor(name: "empty", dtype: .f16, shape: [0, 4], bytes: [])
        let path = directory.url.appendingPathComponent("model.safetensors").path
        try writer.write(to: path)
        let file = try SafetensorsFile(path: path)
        #expect(file.metadata == ["format": "pt", "quote\"d": "a\nb"])
        #expect(file.dataOffset % 8 == 0)
        #expect(Set(file.tensors.map(\.name)) == ["layer.weight", "ids", "half", "empty"])
        let info = try #require(file.tensor(named: "layer.weight"))
        #expect(info.shape == [3, 4] && info.dtype == .f32 && info.byteCount == 48)
        let matrix = try file.matrix(named: "layer.weight")
        #expect(matrix.rows == 3 && matrix.columns == 4 && matrix.dtype == .f32)
        #expect(matrix.rowPointer(2).loadUnaligned(fromByteOffset: 4, as: Float.self) == weight[9])
        #expect(file.bytes(of: try #require(file.tensor(named: "ids"))).elementsEqual([1, 0, 0, 0, 2, 0, 0, 0]))
        let half = try file.matrix(named: "half")
        #expect(half.rows == 1 && half.columns == 2 && half.dtype == .bf16)
        guard case .unsupportedDType(_, .i32) = #expect(throws: SafetensorsError.self, performing: { try file.matrix(named: "ids") })
        else { Issue.record("i32 matrix"); return }
        guard case .tensorNotFound = #expect(throws: SafetensorsError.self, performing: { try file.matrix(named: "x") })
        else { Issue.record("not found"); return }
    }

    @Test func malformedHeaders() throws {
        let directory = try TemporaryDirectory()
        guard case .truncated = try Self.error([1, 2, 3], in: directory) else { Issue.record("short"); return }
        var huge: [UInt8] = []
        withUnsafeBytes(of: UInt64.max.littleEndian) { huge += $0 }
        guard case .headerTooLarge = try Self.error(huge + [0x7B, 0x7D], in: directory) else { Issue.record("huge"); return }
        guard case .invalidHeader = try Self.error(Self.header("{\"a\": "), in: directory) else { Issue.record("json"); return }
        guard case .invalidHeader = try Self.error(Self.header("[1, 2]"), in: directory) else { Issue.record("array"); return }
        guard case .invalidHeader = try Self.error(Self.header(#"{"__metadata__": {"a": 1}}"#), in: directory)
        else { Issue.record("metadata"); return }
        guard case .invalidEntry("t", _) = try Self.error(Self.header(#"{"t": {"dtype": "F32", "shape": [2]}}"#), in: directory)
        else { Issue.record("no offsets"); return }
        guard case .invalidEntry("t", _) = try Self.error(
            Self.header(#"{"t": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}"#, dataBytes: 8), in: directory)
        else { Issue.record("negative shape"); return }
        guard case .unknownDType("t", "F33") = try Self.error(
            Self.header(#"{"t": {"dtype": "F33", "shape": [2], "data_offsets": [0, 8]}}"#, dataBytes: 8), in: directory)
        else { Issue.record("dtype"); return }
        guard case .tensorOutOfBounds("t", 0, 16, 8) = try Self.error(
            Self.header(#"{"t": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}"#, dataBytes: 8), in: directory)
        else { Issue.record("bounds"); return }
        guard case .tensorOutOfBounds = try Self.error(
            Self.header(#"{"t": {"dtype": "F32", "shape": [0], "data_offsets": [8, 4]}}"#, dataBytes: 8), in: directory)
        else { Issue.record("reversed"); return }
        guard case .sizeMismatch("t", [3], .f32, 12, 8) = try Self.error(
            Self.header(#"{"t": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#, dataBytes: 8), in: directory)
        else { Issue.record("size"); return }
        guard case .invalidEntry = try Self.error(
            Self.header(#"{"t": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}}"#, dataBytes: 8),
            in: directory)
        else { Issue.record("overflow"); return }
        guard case .overlappingTensors = try Self.error(
            Self.header(#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "U8", "shape": [4], "data_offsets": [4, 8]}}"#,
                        dataBytes: 8), in: directory)
        else { Issue.record("overlap"); return }
    }
}
