// Whole-row conversions between float32 and binary16, for the f16 KV cache. The 16-lane
// bodies are lane loops over `Float16` that LLVM turns into one `vcvtph2ps` / `vcvtps2ph`
// (zmm with AVX-512, two ymm with F16C) when the build targets a CPU that has them; on
// other targets they are correct, only slower.

/// 16 binary16 values -> 16 floats (exact).
@inline(__always)
func widenHalves16(_ p: UnsafePointer<UInt16>) -> V16 {
    let h = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<UInt16>.self)
    var v = V16()
    for i in 0..<16 { v[i] = Float(Float16(bitPattern: h[i])) }
    return v
}

/// 16 floats -> 16 binary16 values (round to nearest even).
@inline(__always)
func narrowHalves16(_ v: V16) -> SIMD16<UInt16> {
    var h = SIMD16<UInt16>()
    for i in 0..<16 { h[i] = Float16(v[i]).bitPattern }
    return h
}

extension HalfConversion {
    /// `destination[i] = Float(source[i])` for `count` binary16 values (exact).
    public static func widen(_ source: UnsafePointer<UInt16>, into destination: UnsafeMutablePointer<Float>,
                             count: Int) {
        var i = 0
        while i + 16 <= count {
            store16(widenHalves16(source + i), destination + i)
            i += 16
        }
        while i < count {
            destination[i] = f16ToF32(source[i])
            i += 1
        }
    }

    /// `destination[i] = binary16(source[i])` for `count` floats (round to nearest even;
    /// beyond ±65504 gives ±inf).
    public static func narrow(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<UInt16>,
                              count: Int) {
        var i = 0
        while i + 16 <= count {
            UnsafeMutableRawPointer(destination + i).storeBytes(of: narrowHalves16(load16(source + i)),
                                                                as: SIMD16<UInt16>.self)
            i += 16
        }
        while i < count {
            destination[i] = f32ToF16(source[i])
            i += 1
        }
    }
}
