/// Storage-type -> float32 conversion of weight rows.
extension WeightMatrix {
    /// Writes row `row` (`columns` floats) of this matrix into `destination`.
    public func dequantizeRow(_ row: Int, into destination: UnsafeMutablePointer<Float>) {
        precondition(row >= 0 && row < rows, "row \(row) out of 0..<\(rows)")
        if layout == .rowGroups {
            withUnsafeTemporaryAllocation(byteCount: dtype.rowBytes(columns), alignment: 16) { buffer in
                copyRowFromGroups(row, into: buffer.baseAddress!)
                Dequantizer.dequantize(UnsafeRawPointer(buffer.baseAddress!), count: columns, dtype: dtype,
                                       into: destination)
            }
            return
        }
        Dequantizer.dequantize(rowPointer(row), count: columns, dtype: dtype, into: destination)
    }
}

/// Free-function spelling of `WeightMatrix.dequantizeRow`: row `row` of `m` (`m.columns`
/// floats) into `into`.
public func dequantizeRow(_ m: WeightMatrix, row: Int, into destination: UnsafeMutablePointer<Float>) {
    m.dequantizeRow(row, into: destination)
}

/// Scalar dequantizers over raw packed data (see `DType` for the block layouts).
public enum Dequantizer {
    /// Converts `count` elements of `dtype` at `source` into floats at `destination`.
    public static func dequantize(_ source: UnsafeRawPointer, count: Int, dtype: DType,
                                  into destination: UnsafeMutablePointer<Float>) {
        precondition(count % dtype.blockSize == 0, "\(count) is not a whole number of \(dtype) blocks")
        switch dtype {
        case .f32:
            destination.update(from: source.assumingMemoryBound(to: Float.self), count: count)
        case .f16:
            let s = source.assumingMemoryBound(to: UInt16.self)
            for i in 0..<count { destination[i] = HalfConversion.f16ToF32(s[i]) }
        case .bf16:
            let s = source.assumingMemoryBound(to: UInt16.self)
            for i in 0..<count { destination[i] = HalfConversion.bf16ToF32(s[i]) }
        case .q8_0:
            for b in 0..<(count / 32) {
                let block = source + b * 34
                let d = F8(repeating: HalfConversion.f16ToF32(block.loadUnaligned(as: UInt16.self)))
                let q = (block + 2).assumingMemoryBound(to: Int8.self)
                let out = destination + b * 32
                for k in stride(from: 0, to: 32, by: 8) { store8(widenInt8(q + k) * d, out + k) }
            }
        case .q4_0:
            for b in 0..<(count / 32) {
                let block = source + b * 18
                let d = HalfConversion.f16ToF32(block.loadUnaligned(as: UInt16.self))
                storeNibbleBlock((block + 2).assumingMemoryBound(to: UInt8.self), scale: d, offset: -8 * d,
                                 destination + b * 32)
            }
        case .q4_1:
            for b in 0..<(count / 32) {
                let block = source + b * 20
                let d = HalfConversion.f16ToF32(block.loadUnaligned(as: UInt16.self))
                let m = HalfConversion.f16ToF32(block.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
                storeNibbleBlock((block + 4).assumingMemoryBound(to: UInt8.self), scale: d, offset: m,
                                 destination + b * 32)
            }
        case .q5_0: Blocks32.dequantizeQ5_0(source, blocks: count / 32, into: destination)
        case .q5_1: Blocks32.dequantizeQ5_1(source, blocks: count / 32, into: destination)
        case .iq4_nl: Blocks32.dequantizeIQ4_NL(source, blocks: count / 32, into: destination)
        case .q2_K: KQuants.dequantizeQ2_K(source, blocks: count / 256, into: destination)
        case .q3_K: KQuants.dequantizeQ3_K(source, blocks: count / 256, into: destination)
        case .q4_K: KQuants.dequantizeQ4_K(source, blocks: count / 256, into: destination)
        case .q5_K: KQuants.dequantizeQ5_K(source, blocks: count / 256, into: destination)
        case .q6_K: KQuants.dequantizeQ6_K(source, blocks: count / 256, into: destination)
        case .iq4_xs: KQuants.dequantizeIQ4_XS(source, blocks: count / 256, into: destination)
        }
    }

    /// out[j] = scale * nibble_j + offset for the 32 nibbles of a 16-byte block
    /// (element j in the low nibble of byte j, element j+16 in the high nibble).
    @inline(__always)
    private static func storeNibbleBlock(_ q: UnsafePointer<UInt8>, scale: Float, offset: Float,
                                         _ out: UnsafeMutablePointer<Float>) {
        let d = F8(repeating: scale), m = F8(repeating: offset)
        let raw0 = widenBytes(q), raw1 = widenBytes(q + 8)
        store8(fma8(lowNibbles(raw0), d, m), out)
        store8(fma8(lowNibbles(raw1), d, m), out + 8)
        store8(fma8(highNibbles(raw0), d, m), out + 16)
        store8(fma8(highNibbles(raw1), d, m), out + 24)
    }
}
