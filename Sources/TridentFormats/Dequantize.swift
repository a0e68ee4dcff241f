import TridentKernels

/// Straightforward dequantization to `Float` for the kernel `DType`s (ggml layouts,
/// little-endian; see `DType`). Used for small tensors such as norms, not on hot paths.
enum Dequantize {
    /// `count` values decoded from `bytes`, which must hold `dtype.rowBytes(count)` bytes.
    static func floats(_ bytes: UnsafeRawBufferPointer, dtype: DType, count: Int) -> [Float] {
        precondition(bytes.count >= dtype.rowBytes(count), "\(bytes.count) bytes cannot hold \(count) \(dtype) values")
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            for block in 0 ..< count / dtype.blockSize {
                let offset = block * dtype.bytesPerBlock
                let first = block * dtype.blockSize
                decodeBlock(bytes, at: offset, dtype: dtype, into: out, from: first)
            }
            initialized = count
        }
    }

    private static func decodeBlock(_ bytes: UnsafeRawBufferPointer, at offset: Int, dtype: DType,
                                    into out: UnsafeMutableBufferPointer<Float>, from first: Int) {
        func u16(_ at: Int) -> UInt16 { UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self)) }
        switch dtype {
        case .f32:
            out[first] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        case .f16:
            out[first] = halfToFloat(u16(offset))
        case .bf16:
            out[first] = Float(bitPattern: UInt32(u16(offset)) << 16)
        case .q8_0:
            let scale = halfToFloat(u16(offset))
            for j in 0 ..< 32 { out[first + j] = scale * Float(Int8(bitPattern: bytes[offset + 2 + j])) }
        case .q4_0, .q4_1:
            let scale = halfToFloat(u16(offset))
            let minimum: Float = dtype == .q4_1 ? halfToFloat(u16(offset + 2)) : -8 * scale
            let quants = offset + (dtype == .q4_1 ? 4 : 2)
            for j in 0 ..< 16 {
                let byte = bytes[quants + j]
                out[first + j] = scale * Float(byte & 0x0F) + minimum
                out[first + j + 16] = scale * Float(byte >> 4) + minimum
            }
        }
    }

    /// IEEE 754 binary16 to binary32, exact (including subnormals, infinities and NaN).
    static func halfToFloat(_ half: UInt16) -> Float {
        let sign: Float = half & 0x8000 != 0 ? -1 : 1
        let exponent = Int(half >> 10) & 0x1F
        let mantissa = UInt32(half & 0x3FF)
        switch exponent {
        case 0: return sign * Float(mantissa) * 0x1p-24
        case 31:
            let bits = UInt32(half & 0x8000) << 16 | 0x7F80_0000 | mantissa << 13
            return Float(bitPattern: bits)
        default:
            let bits = UInt32(half & 0x8000) << 16 | UInt32(exponent + 112) << 23 | mantissa << 13
            return Float(bitPattern: bits)
        }
    }
}
