/// Random but well-formed packed rows of any `DType`, for tests and benchmarks of types
/// that have no quantizer yet: random bytes everywhere, with every f16 scale field replaced
/// by a finite value of magnitude 2^-10 ... 2^-6 (minimum fields positive), so decoded
/// weights stay small and finite.
public enum RandomBlocks {
    /// `rows * dtype.rowBytes(columns)` bytes from a deterministic generator seeded by `seed`.
    public static func rows(_ rows: Int, columns: Int, dtype: DType, seed: UInt64) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func next() -> UInt64 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return state
        }
        func scale(positive: Bool) -> UInt16 {
            let r = next()
            let magnitude = Float(sign: .plus, exponent: -10 + Int(r % 4), significand: 1 + Float(r >> 8 & 0xFF) / 256)
            return HalfConversion.f32ToF16(positive || r & (1 << 20) == 0 ? magnitude : -magnitude)
        }
        let count = rows * dtype.rowBytes(columns)
        var bytes = [UInt8](repeating: 0, count: count)
        if !dtype.isQuantized {
            let values = (0..<(rows * columns)).map { _ in Float(Int64(next() % 2001) - 1000) / 1000 }
            return Quantizer.quantize(values, rows: rows, columns: columns, to: dtype)
        }
        for i in 0..<count { bytes[i] = UInt8(truncatingIfNeeded: next()) }
        let (scales, mins) = halfFields(dtype)
        for block in stride(from: 0, to: count, by: dtype.bytesPerBlock) {
            for offset in scales { store(scale(positive: false), &bytes, block + offset) }
            for offset in mins { store(scale(positive: true), &bytes, block + offset) }
        }
        return bytes
    }

    /// Byte offsets of the f16 scale fields and of the f16 minimum fields in one block.
    static func halfFields(_ dtype: DType) -> (scales: [Int], mins: [Int]) {
        switch dtype {
        case .f32, .f16, .bf16: return ([], [])
        case .q8_0, .q4_0, .q5_0, .iq4_nl, .iq4_xs: return ([0], [])
        case .q4_1, .q5_1: return ([0], [2])
        case .q4_K, .q5_K: return ([KQuantLayout.Q4.d], [KQuantLayout.Q4.dmin])
        case .q2_K: return ([KQuantLayout.Q2.d], [KQuantLayout.Q2.dmin])
        case .q3_K: return ([KQuantLayout.Q3.d], [])
        case .q6_K: return ([KQuantLayout.Q6.d], [])
        }
    }

    private static func store(_ half: UInt16, _ bytes: inout [UInt8], _ at: Int) {
        bytes[at] = UInt8(half & 0xFF)
        bytes[at + 1] = UInt8(half >> 8)
    }
}
