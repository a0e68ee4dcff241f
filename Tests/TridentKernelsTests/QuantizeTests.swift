import Testing
@testable import TridentKernels

@Suite struct QuantizeTests {
    /// Blocks of 32 from `values` with their amax, min, max.
    private func blocks(_ values: [Float]) -> [(amax: Float, lo: Float, hi: Float, range: Range<Int>)] {
        stride(from: 0, to: values.count, by: 32).map { start in
            let block = values[start..<(start + 32)]
            return (block.map(abs).max()!, block.min()!, block.max()!, start..<(start + 32))
        }
    }

    /// Error bound terms: half a step, plus f16 rounding of the scale (relative 2^-11)
    /// times the largest |q|.
    @Test(arguments: [DType.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .f16, .bf16, .f32])
    func roundTripErrorIsWithinBound(dtype: DType) {
        let values = randomFloats(31 * 96, in: -3...2, seed: 11) + [Float](repeating: 0, count: 96)
        let w = OwnedWeights(values: values, rows: 32, columns: 96, dtype: dtype).matrix
        let back = dequantizeAll(w)
        let ulp16: Float = 1.0 / 2048
        for (amax, lo, hi, range) in blocks(values) {
            let bound: Float
            switch dtype {
            case .q8_0: let d = amax / 127; bound = d * (0.5 + 127 * ulp16) + 1e-7
            case .q4_0: let d = amax / 8; bound = d * (1 + 8 * ulp16) + 1e-7  // +8 clamps to 7
            case .q4_1: let d = (hi - lo) / 15; bound = d * (0.5 + 15 * ulp16) + abs(lo) * ulp16 + 1e-6
            case .q5_0: let d = amax / 16; bound = d * (1 + 16 * ulp16) + 1e-7  // +16 clamps to 15
            case .q5_1: let d = (hi - lo) / 31; bound = d * (0.5 + 31 * ulp16) + abs(lo) * ulp16 + 1e-6
            case .f16: bound = amax * ulp16
            case .bf16: bound = amax / 256
            case .f32: bound = 0
            default: Issue.record("no bound for \(dtype)"); return
            }
            for i in range {
                #expect(abs(back[i] - values[i]) <= bound, "\(dtype) element \(i): \(values[i]) -> \(back[i])")
            }
        }
        #expect(back[(31 * 96)...].allSatisfy { $0 == 0 }, "an all-zero block must stay zero")
    }

    @Test func q8_0BlockLayoutAndRounding() {
        // amax 127 -> d = 1 exactly, q = round-half-away(x).
        var x = [Float](repeating: 0, count: 32)
        x[0] = 127; x[1] = -2.5; x[2] = 2.5; x[3] = 0.49; x[31] = -127
        let bytes = Quantizer.quantize(x, rows: 1, columns: 32, to: .q8_0)
        #expect(bytes.count == 34)
        #expect(bytes[0] == 0x00 && bytes[1] == 0x3C)  // f16 1.0, little-endian
        #expect(Int8(bitPattern: bytes[2]) == 127)
        #expect(Int8(bitPattern: bytes[3]) == -3)
        #expect(Int8(bitPattern: bytes[4]) == 3)
        #expect(Int8(bitPattern: bytes[5]) == 0)
        #expect(Int8(bitPattern: bytes[33]) == -127)
    }

    @Test func q4_0AndQ4_1NibbleLayout() {
        // q4_0: max by magnitude is -8 -> d = 1; element j in low nibble, j+16 in high.
        var x = [Float](repeating: 0, count: 32)
        x[0] = -8; x[16] = 3; x[1] = 7.6
        let q40 = Quantizer.quantize(x, rows: 1, columns: 32, to: .q4_0)
        #expect(q40[0] == 0x00 && q40[1] == 0x3C)
        #expect(q40[2] == (0 | (11 << 4)))  // -8+8 = 0, 3+8 = 11
        #expect(q40[3] == (15 | (8 << 4)))  // 7.6+8.5 -> 16 clamped to 15; 0 -> 8
        // q4_1: min 1, max 16 -> d = 1, m = 1.
        var y = [Float](repeating: 1, count: 32)
        y[5] = 16; y[21] = 3.4
        let q41 = Quantizer.quantize(y, rows: 1, columns: 32, to: .q4_1)
        #expect(q41[0] == 0x00 && q41[1] == 0x3C && q41[2] == 0x00 && q41[3] == 0x3C)
        #expect(q41[4 + 5] == (15 | (2 << 4)))
        #expect(q41[4] == 0)
    }

    @Test func dequantizeHandBuiltBlocks() {
        // q8_0: d = 0.5 (f16 0x3800), q[i] = i - 16.
        let q8: [UInt8] = [0x00, 0x38] + (0..<32).map { UInt8(bitPattern: Int8($0 - 16)) }
        // q4_1: d = 2 (0x4000), m = -1 (0xBC00); byte j = (j & 15) | ((15 - j) << 4).
        let q41: [UInt8] = [0x00, 0x40, 0x00, 0xBC] + (0..<16).map { UInt8($0 | ((15 - $0) << 4)) }
        // q4_0: d = -1 (0xBC00); same nibbles.
        let q40: [UInt8] = [0x00, 0xBC] + (0..<16).map { UInt8($0 | ((15 - $0) << 4)) }
        let a = dequantizeAll(OwnedWeights(bytes: q8, rows: 1, columns: 32, dtype: .q8_0).matrix)
        let b = dequantizeAll(OwnedWeights(bytes: q41, rows: 1, columns: 32, dtype: .q4_1).matrix)
        let c = dequantizeAll(OwnedWeights(bytes: q40, rows: 1, columns: 32, dtype: .q4_0).matrix)
        for i in 0..<32 {
            #expect(a[i] == 0.5 * Float(i - 16))
            let nibble = i < 16 ? i : 15 - (i - 16)
            #expect(b[i] == 2 * Float(nibble) - 1)
            #expect(c[i] == -1 * Float(nibble - 8))
        }
    }
}
