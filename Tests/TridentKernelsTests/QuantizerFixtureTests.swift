import Foundation
import Testing
@testable import TridentKernels

/// Bytes written by Trident's quantizers decode the same in the `gguf` Python package: the
/// committed `Tests/Fixtures/quants/quantizer-T.gguf-py.f32` are gguf-py's decoding of files
/// `trident quantize` wrote from `quantizer-input.f32` (scripts/reference/make_quantizer_fixtures.py).
/// Quantizing the same input here (the quantizers are deterministic) and decoding with
/// Trident's dequantizer must give those values, up to float32 rounding order.
@Suite struct QuantizerFixtureTests {
    static let types: [DType] = [.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K]

    @Test(arguments: types)
    func tridentBytesDecodeTheSameInGGUFPy(dtype: DType) throws {
        let input = try #require(QuantFixtureTests.floats("quantizer-input.f32"))
        let expected = try #require(QuantFixtureTests.floats("quantizer-\(dtype.rawValue).gguf-py.f32"))
        #expect(input.count == 16 * 256 && expected.count == input.count)
        let bytes = Quantizer.quantize(input, rows: 16, columns: 256, to: dtype)
        let got = QuantFixtureTests.dequantize(bytes, dtype)
        let scale = expected.map(abs).max()!
        for i in 0..<got.count {
            #expect(abs(got[i] - expected[i]) <= scale * 0x1p-20, "\(dtype) element \(i): \(got[i]) vs gguf-py \(expected[i])")
        }
        // And the round trip is close to the input: relative RMS below the 4-bit bound.
        let error = zip(input, got).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
        let signal = input.reduce(0.0) { $0 + Double($1 * $1) }
        #expect((error / signal).squareRoot() < 0.13, "\(dtype)")
    }
}
