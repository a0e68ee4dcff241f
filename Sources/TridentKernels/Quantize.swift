/// Float32 -> storage-type conversion of whole rows, following ggml's reference quantizers
/// bit for bit (so files we write read back identically in llama.cpp):
/// - `q8_0`: `d = amax / 127`, `q = round(x / d)` (halves away from zero).
/// - `q4_0`: `d = max / -8` where `max` is the element of largest magnitude (signed),
///   `q = min(15, trunc(x / d + 8.5))`.
/// - `q4_1`: `d = (max - min) / 15`, `m = min`, `q = min(15, trunc((x - min) / d + 0.5))`.
/// - `q5_0`, `q5_1`: as `q4_0` / `q4_1` with 32 levels (`d = max / -16`, `d = (max - min) / 31`).
/// - `f16`, `bf16`: round to nearest even; `f32`: copy.
/// - `q4_K`, `q5_K`, `q6_K`: searched sub-block scales (see `QuantizeKQuants.swift`); not bit
///   for bit ggml's, but of the same or smaller error.
public enum Quantizer {
    /// Converts `count` floats at `source` into `dtype` storage at `destination`
    /// (`dtype.rowBytes(count)` bytes; `count` must be a multiple of `dtype.blockSize`).
    public static func quantizeRow(_ source: UnsafePointer<Float>, count: Int, to dtype: DType,
                                   into destination: UnsafeMutableRawPointer) {
        precondition(count % dtype.blockSize == 0, "\(count) is not a whole number of \(dtype) blocks")
        switch dtype {
        case .f32:
            destination.copyMemory(from: source, byteCount: count * 4)
        case .f16:
            let out = destination.assumingMemoryBound(to: UInt16.self)
            for i in 0..<count { out[i] = HalfConversion.f32ToF16(source[i]) }
        case .bf16:
            let out = destination.assumingMemoryBound(to: UInt16.self)
            for i in 0..<count { out[i] = HalfConversion.f32ToBF16(source[i]) }
        case .q8_0, .q4_0, .q4_1, .q5_0, .q5_1:
            for b in 0..<(count / 32) {
                let block = destination + b * dtype.bytesPerBlock
                let x = source + b * 32
                switch dtype {
                case .q8_0: quantizeBlockQ8_0(x, block)
                case .q4_0: quantizeBlockQ4_0(x, block)
                case .q4_1: quantizeBlockQ4_1(x, block)
                case .q5_0: quantizeBlockQ5_0(x, block)
                default: quantizeBlockQ5_1(x, block)
                }
            }
        case .q4_K, .q5_K, .q6_K:
            for b in 0..<(count / 256) {
                let block = destination + b * dtype.bytesPerBlock
                let x = source + b * 256
                switch dtype {
                case .q4_K: quantizeBlockQ4_K(x, block)
                case .q5_K: quantizeBlockQ5_K(x, block)
                default: quantizeBlockQ6_K(x, block)
                }
            }
        case .iq4_nl, .q2_K, .q3_K, .iq4_xs:
            preconditionFailure("no quantizer for \(dtype) yet (check Quantizer.canQuantize)")
        }
    }

    /// Whether `quantizeRow` can write `dtype` (every type can be read; Q2_K, Q3_K and the
    /// IQ4 types cannot yet be written).
    public static func canQuantize(_ dtype: DType) -> Bool {
        switch dtype {
        case .f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K: return true
        case .iq4_nl, .q2_K, .q3_K, .iq4_xs: return false
        }
    }

    /// Quantizes a row-major `[rows, columns]` float matrix into packed `dtype` rows.
    public static func quantize(_ values: [Float], rows: Int, columns: Int, to dtype: DType) -> [UInt8] {
        precondition(values.count == rows * columns, "expected \(rows * columns) values, got \(values.count)")
        let rowBytes = dtype.rowBytes(columns)
        var bytes = [UInt8](repeating: 0, count: rows * rowBytes)
        values.withUnsafeBufferPointer { src in
            bytes.withUnsafeMutableBytes { dst in
                for r in 0..<rows {
                    quantizeRow(src.baseAddress! + r * columns, count: columns, to: dtype,
                                into: dst.baseAddress! + r * rowBytes)
                }
            }
        }
        return bytes
    }

    private static func quantizeBlockQ8_0(_ x: UnsafePointer<Float>, _ block: UnsafeMutableRawPointer) {
        var amax: Float = 0
        for i in 0..<32 { amax = max(amax, abs(x[i])) }
        let d = amax / 127
        let id: Float = d != 0 ? 1 / d : 0
        block.storeBytes(of: HalfConversion.f32ToF16(d), as: UInt16.self)
        let q = (block + 2).assumingMemoryBound(to: Int8.self)
        for i in 0..<32 { q[i] = Int8((x[i] * id).rounded(.toNearestOrAwayFromZero)) }
    }

    private static func quantizeBlockQ4_0(_ x: UnsafePointer<Float>, _ block: UnsafeMutableRawPointer) {
        var amax: Float = 0
        var signedMax: Float = 0
        for i in 0..<32 where abs(x[i]) > amax {
            amax = abs(x[i])
            signedMax = x[i]
        }
        let d = signedMax / -8
        let id: Float = d != 0 ? 1 / d : 0
        block.storeBytes(of: HalfConversion.f32ToF16(d), as: UInt16.self)
        let q = (block + 2).assumingMemoryBound(to: UInt8.self)
        for j in 0..<16 {
            let lo = min(15, Int8(x[j] * id + 8.5))
            let hi = min(15, Int8(x[j + 16] * id + 8.5))
            q[j] = UInt8(lo) | UInt8(hi) << 4
        }
    }

    private static func quantizeBlockQ4_1(_ x: UnsafePointer<Float>, _ block: UnsafeMutableRawPointer) {
        var lo = Float.greatestFiniteMagnitude
        var hi = -Float.greatestFiniteMagnitude
        for i in 0..<32 {
            lo = min(lo, x[i])
            hi = max(hi, x[i])
        }
        let d = (hi - lo) / 15
        let id: Float = d != 0 ? 1 / d : 0
        block.storeBytes(of: HalfConversion.f32ToF16(d), as: UInt16.self)
        block.storeBytes(of: HalfConversion.f32ToF16(lo), toByteOffset: 2, as: UInt16.self)
        let q = (block + 4).assumingMemoryBound(to: UInt8.self)
        for j in 0..<16 {
            let a = min(15, Int8((x[j] - lo) * id + 0.5))
            let b = min(15, Int8((x[j + 16] - lo) * id + 0.5))
            q[j] = UInt8(a) | UInt8(b) << 4
        }
    }
}
