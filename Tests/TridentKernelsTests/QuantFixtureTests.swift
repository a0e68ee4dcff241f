import Foundation
import Testing
@testable import TridentKernels

/// Dequantization of the 5-bit, K-quant and IQ4 types against `gguf.quants` (the `gguf`
/// Python package), on the committed fixtures of `Tests/Fixtures/quants` (see its README):
/// random blocks, and blocks cut from files made by llama.cpp's `llama-quantize`.
@Suite struct QuantFixtureTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/quants")

    static let types: [DType] = [.q5_0, .q5_1, .iq4_nl, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .iq4_xs]

    static func bytes(_ name: String) -> [UInt8]? {
        (try? Data(contentsOf: directory.appendingPathComponent(name))).map { [UInt8]($0) }
    }

    static func floats(_ name: String) -> [Float]? {
        bytes(name).map { raw in
            raw.withUnsafeBytes { p in (0..<(raw.count / 4)).map { p.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } }
        }
    }

    /// Dequantizes `raw` (whole blocks of `dtype`) as one row.
    static func dequantize(_ raw: [UInt8], _ dtype: DType) -> [Float] {
        let count = raw.count / dtype.bytesPerBlock * dtype.blockSize
        var out = [Float](repeating: .nan, count: count)
        raw.withUnsafeBytes { src in
            out.withUnsafeMutableBufferPointer { Dequantizer.dequantize(src.baseAddress!, count: count, dtype: dtype, into: $0.baseAddress!) }
        }
        return out
    }

    /// Compares with the reference: the float32 results may differ by rounding (ggml and
    /// numpy multiply and subtract separately, Trident fuses), so |a − b| ≤ 2⁻²⁰·max|ref|
    /// over the block, a few float32 ulps of the block's largest value.
    static func expectMatches(_ dtype: DType, _ source: String) throws {
        let raw = try #require(bytes("\(source)-\(dtype.rawValue).bin"), "missing fixture \(source)-\(dtype.rawValue).bin")
        let expected = try #require(floats("\(source)-\(dtype.rawValue).f32"))
        let got = dequantize(raw, dtype)
        try #require(got.count == expected.count, "\(dtype): \(got.count) values, reference \(expected.count)")
        let block = dtype.blockSize
        for start in stride(from: 0, to: got.count, by: block) {
            let scale = expected[start..<(start + block)].map(abs).max()!
            for i in start..<(start + block) {
                #expect(abs(got[i] - expected[i]) <= scale * 0x1p-20,
                        "\(source) \(dtype) element \(i): \(got[i]) vs gguf.quants \(expected[i])")
            }
        }
    }

    @Test(arguments: types)
    func randomBlocksMatchGGUFPy(dtype: DType) throws {
        try Self.expectMatches(dtype, "random")
    }

    @Test(arguments: types)
    func llamaQuantizeBlocksMatchGGUFPy(dtype: DType) throws {
        try Self.expectMatches(dtype, "real")
    }

    /// q5_0 / q5_1 quantization is ggml's reference algorithm bit for bit (gguf.quants
    /// implements the same one; the fixture holds its input floats and output bytes).
    @Test(arguments: [DType.q5_0, .q5_1])
    func quantizerMatchesGGUFPyBitForBit(dtype: DType) throws {
        let input = try #require(Self.floats("random-\(dtype.rawValue).input.f32"))
        let expected = try #require(Self.bytes("random-\(dtype.rawValue).bin"))
        let got = Quantizer.quantize(input, rows: 1, columns: input.count, to: dtype)
        #expect(got.count == expected.count)
        let differing = zip(got, expected).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
        #expect(differing.isEmpty, "\(dtype): \(differing.count) bytes differ, first at \(differing.first ?? -1)")
    }
}
