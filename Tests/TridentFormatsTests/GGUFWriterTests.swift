import Foundation
import Testing
import TridentKernels
import TridentFormats

struct GGUFWriterTests {
    static func floatBytes(_ values: [Float]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }

    @Test func roundTripsMetadataAndTensors() throws {
        let directory = try TemporaryDirectory()
        var writer = GGUFWriter()
        let metadata: [(String, GGUFValue)] = [
            ("general.architecture", .string("llama")),
            ("a.u8", .uint8(200)), ("a.i8", .int8(-5)), ("a.u16", .uint16(65000)), ("a.i16", .int16(-300)),
            ("a.u32", .uint32(4_000_000_000)), ("a.i32", .int32(-70000)),
            ("a.u64", .uint64(.max)), ("a.i64", .int64(.min)),
            ("a.f32", .float32(0.25)), ("a.f64", .float64(-1e300)), ("a.bool", .bool(true)),
            ("a.unicode", .string("héllo ✓ 🦙")), ("a.empty", .string("")),
            ("a.strings", .array([.string("x"), .string(""), .string("zz")])),
            ("a.nested", .array([.array([.int32(1), .int32(2)]), .array([.int32(3)])])),
            ("a.emptyArray", .array([])),
        ]
        for (key, value) in metadata { writer.add(key, value) }
        let norm: [Float] = (0 ..< 64).map { Float($0) * 0.5 - 3 }
        let matrix: [Float] = (0 ..< 96).map { Float($0) / 7 }
        // One Q8_0 block: scale 1.0 (f16 0x3C00), quants -16 ... 15.
        let q8: [UInt8] = [0x00, 0x3C] + (0 ..< 32).map { UInt8(bitPattern: Int8($0 - 16)) }
        writer.addTensor(name: "norm", shape: [64], dtype: .f32, bytes: Self.floatBytes(norm))
        writer.addTensor(name: "odd", shape: [3], type: .i8, bytes: [1, 2, 3])
        writer.addTensor(name: "matrix", shape: [32, 3], dtype: .f32, bytes: Self.floatBytes(matrix))
        writer.addTensor(name: "q8", shape: [32, 1, 1], type: .q8_0, bytes: q8)
        let path = directory.url.appendingPathComponent("model.gguf").path
        try writer.write(to: path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(writer.serialized()))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.url.path)
        #expect(leftovers == ["model.gguf"], "the temporary file is renamed, not left behind")

        let file = try GGUFFile(path: path)
        #expect(file.version == 3)
        #expect(file.metadataKeys == metadata.map(\.0))
        for (key, value) in metadata { #expect(file.metadata[key] == value, "\(key)") }
        #expect(file.tensors.map(\.name) == ["norm", "odd", "matrix", "q8"])
        #expect(file.tensors.allSatisfy { $0.offset % 32 == 0 })
        #expect(try file.floats(named: "norm") == norm)
        #expect(file.bytes(of: try #require(file.tensor(named: "odd"))).elementsEqual([1, 2, 3]))
        let view = try file.matrix(named: "matrix")
        #expect(view.rows == 3 && view.columns == 32)
        #expect(view.rowPointer(2).loadUnaligned(fromByteOffset: 4 * 5, as: Float.self) == matrix[2 * 32 + 5])
        #expect(try file.floats(named: "q8") == (0 ..< 32).map { Float($0 - 16) })
        #expect(try file.matrix(named: "q8").rows == 1)
        let unsupported = #expect(throws: GGUFError.self) { try file.matrix(named: "odd") }
        guard case .unsupportedTensorType(_, .i8) = unsupported else { Issue.record("\(String(describing: unsupported))"); return }
    }

    @Test func customAlignmentAndMatrixInput() throws {
        let directory = try TemporaryDirectory()
        let source = try GGUFFile(path: Fixtures.path("tiny-llama-q4_1.gguf"))
        var writer = GGUFWriter(alignment: 64)
        writer.add("general.architecture", .string("llama"))
        let wq = try source.matrix(named: "blk.0.attn_q.weight")
        writer.addTensor(name: "top", matrix: wq.rows(10 ..< 20))
        writer.addTensor(name: "slice", matrix: wq.columns(32 ..< 64))
        let path = directory.url.appendingPathComponent("copy.gguf").path
        try writer.write(to: path)
        let file = try GGUFFile(path: path)
        #expect(file.alignment == 64 && file.dataOffset % 64 == 0)
        #expect(try file.int("general.alignment") == 64)
        #expect(file.tensors.allSatisfy { $0.offset % 64 == 0 })
        let all = try source.floats(named: "blk.0.attn_q.weight")  // [64 rows][64 columns]
        #expect(try file.floats(named: "top") == Array(all[640 ..< 1280]))
        let slice = try file.floats(named: "slice")
        var expected: [Float] = []
        for row in 0 ..< 64 { expected += all[row * 64 + 32 ..< row * 64 + 64] }
        #expect(slice == expected)
    }

    @Test func rewritingTinyModelReproducesIt() throws {
        // Writing every tensor and key of a file produced by gguf-py must give the same bytes.
        let source = try GGUFFile(path: Fixtures.path("tiny-llama-q8_0.gguf"))
        var writer = GGUFWriter()
        for key in source.metadataKeys { writer.add(key, source.metadata[key]!) }
        for tensor in source.tensors {
            writer.addTensor(name: tensor.name, shape: tensor.shape, type: tensor.type,
                             bytes: Array(source.bytes(of: tensor)))
        }
        let original = try Data(contentsOf: URL(fileURLWithPath: source.path))
        #expect(Data(writer.serialized()) == original)
    }
}
