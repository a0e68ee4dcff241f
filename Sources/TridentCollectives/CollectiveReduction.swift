/// Element-wise reduction kernels shared by every backend.
///
/// `reduce(into:from:count:type:op:)` computes `destination[i] = op(destination[i], source[i])`
/// for `count` elements. Float32 uses 16-lane SIMD; Float16 and BFloat16 are widened to Float32,
/// combined, and rounded back to nearest-even; Int32 sums wrap on overflow.
public enum CollectiveReduction {
    /// Reduces `count` elements of `source` into `destination` in place.
    /// - Parameters:
    ///   - destination: `count * type.byteWidth` bytes, read and written. May equal `source`.
    ///   - source: `count * type.byteWidth` bytes, read only.
    public static func reduce(into destination: UnsafeMutableRawPointer, from source: UnsafeRawPointer,
                              count: Int, type: CollectiveDataType, op: ReduceOperation) {
        precondition(count >= 0, "negative element count \(count)")
        guard count > 0 else { return }
        switch type {
        case .float32:
            reduceFloat32(destination.assumingMemoryBound(to: Float.self),
                          source.assumingMemoryBound(to: Float.self), count, op)
        case .int32:
            reduceInt32(destination.assumingMemoryBound(to: Int32.self),
                        source.assumingMemoryBound(to: Int32.self), count, op)
        case .float16:
            reduceFloat16(destination.assumingMemoryBound(to: UInt16.self),
                          source.assumingMemoryBound(to: UInt16.self), count, op)
        case .bfloat16:
            reduceBFloat16(destination.assumingMemoryBound(to: UInt16.self),
                           source.assumingMemoryBound(to: UInt16.self), count, op)
        }
    }

    /// Scalar reference for `reduce`, used by tests to check the fast path.
    public static func reduceReference(into destination: UnsafeMutableRawPointer, from source: UnsafeRawPointer,
                                       count: Int, type: CollectiveDataType, op: ReduceOperation) {
        for i in 0..<count {
            switch type {
            case .float32:
                let d = destination.assumingMemoryBound(to: Float.self), s = source.assumingMemoryBound(to: Float.self)
                d[i] = combine(d[i], s[i], op)
            case .int32:
                let d = destination.assumingMemoryBound(to: Int32.self), s = source.assumingMemoryBound(to: Int32.self)
                d[i] = op == .sum ? d[i] &+ s[i] : (op == .max ? Swift.max(d[i], s[i]) : Swift.min(d[i], s[i]))
            case .float16:
                let d = destination.assumingMemoryBound(to: UInt16.self), s = source.assumingMemoryBound(to: UInt16.self)
                let r = combine(Float(Float16(bitPattern: d[i])), Float(Float16(bitPattern: s[i])), op)
                d[i] = Float16(r).bitPattern
            case .bfloat16:
                let d = destination.assumingMemoryBound(to: UInt16.self), s = source.assumingMemoryBound(to: UInt16.self)
                d[i] = floatToBFloat16(combine(bfloat16ToFloat(d[i]), bfloat16ToFloat(s[i]), op))
            }
        }
    }

    /// Widens a BFloat16 bit pattern to Float32 (exact).
    @inline(__always)
    public static func bfloat16ToFloat(_ bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// Rounds a Float32 to the nearest BFloat16 (ties to even); NaN stays NaN.
    @inline(__always)
    public static func floatToBFloat16(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        let rounding = UInt32(0x7FFF) &+ ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }

    @inline(__always)
    static func combine(_ a: Float, _ b: Float, _ op: ReduceOperation) -> Float {
        switch op {
        case .sum: a + b
        case .max: Swift.max(a, b)
        case .min: Swift.min(a, b)
        }
    }

    private static func reduceFloat32(_ d: UnsafeMutablePointer<Float>, _ s: UnsafePointer<Float>,
                                      _ n: Int, _ op: ReduceOperation) {
        switch op {
        case .sum: float32Loop(d, s, n, { $0 + $1 }, { $0 + $1 })
        case .max: float32Loop(d, s, n, { $0.replacing(with: $1, where: $1 .> $0) }, { Swift.max($0, $1) })
        case .min: float32Loop(d, s, n, { $0.replacing(with: $1, where: $1 .< $0) }, { Swift.min($0, $1) })
        }
    }

    @inline(__always)
    private static func float32Loop(_ d: UnsafeMutablePointer<Float>, _ s: UnsafePointer<Float>, _ n: Int,
                                    _ vector: (SIMD16<Float>, SIMD16<Float>) -> SIMD16<Float>,
                                    _ scalar: (Float, Float) -> Float) {
        let rawD = UnsafeMutableRawPointer(d), rawS = UnsafeRawPointer(s)
        var i = 0
        while i + 16 <= n {
            let a = rawD.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            let b = rawS.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            rawD.storeBytes(of: vector(a, b), toByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        while i < n {
            d[i] = scalar(d[i], s[i])
            i += 1
        }
    }

    private static func reduceInt32(_ d: UnsafeMutablePointer<Int32>, _ s: UnsafePointer<Int32>,
                                    _ n: Int, _ op: ReduceOperation) {
        switch op {
        case .sum: for i in 0..<n { d[i] = d[i] &+ s[i] }
        case .max: for i in 0..<n { d[i] = Swift.max(d[i], s[i]) }
        case .min: for i in 0..<n { d[i] = Swift.min(d[i], s[i]) }
        }
    }

    private static func reduceFloat16(_ d: UnsafeMutablePointer<UInt16>, _ s: UnsafePointer<UInt16>,
                                      _ n: Int, _ op: ReduceOperation) {
        switch op {
        case .sum: float16Loop(d, s, n) { $0 + $1 }
        case .max: float16Loop(d, s, n) { Swift.max($0, $1) }
        case .min: float16Loop(d, s, n) { Swift.min($0, $1) }
        }
    }

    /// Widens 8 halves at a time to Float32 (F16C where available), combines, narrows back.
    @inline(__always)
    private static func float16Loop(_ d: UnsafeMutablePointer<UInt16>, _ s: UnsafePointer<UInt16>, _ n: Int,
                                    _ combine: (Float, Float) -> Float) {
        let dh = UnsafeMutableRawPointer(d).assumingMemoryBound(to: Float16.self)
        let sh = UnsafeRawPointer(s).assumingMemoryBound(to: Float16.self)
        for i in 0..<n {
            dh[i] = Float16(combine(Float(dh[i]), Float(sh[i])))
        }
    }

    private static func reduceBFloat16(_ d: UnsafeMutablePointer<UInt16>, _ s: UnsafePointer<UInt16>,
                                       _ n: Int, _ op: ReduceOperation) {
        switch op {
        case .sum: bfloat16Loop(d, s, n) { $0 + $1 }
        case .max: bfloat16Loop(d, s, n) { Swift.max($0, $1) }
        case .min: bfloat16Loop(d, s, n) { Swift.min($0, $1) }
        }
    }

    /// Branch-free widen / combine / round-to-nearest-even so the loop vectorises.
    @inline(__always)
    private static func bfloat16Loop(_ d: UnsafeMutablePointer<UInt16>, _ s: UnsafePointer<UInt16>, _ n: Int,
                                     _ combine: (Float, Float) -> Float) {
        for i in 0..<n {
            let r = combine(Float(bitPattern: UInt32(d[i]) << 16), Float(bitPattern: UInt32(s[i]) << 16))
            let bits = r.bitPattern
            let rounded = UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
            let quietNaN = UInt16(truncatingIfNeeded: bits >> 16) | 0x0040
            d[i] = r != r ? quietNaN : rounded
        }
    }
}
