/// The register micro-kernels of `BlockedProduct`: `C[rows, columns] (+)= A · Bp` for `mr`
/// rows of A (a packed panel `[kc][mr]`, or whole rows of a row-major A read in place) and
/// one packed panel of B (`[kc][nr]`). Every accumulator lives in a register for the whole
/// depth loop; A is read one broadcast per row and depth step.
///
/// - `wide` (12 × 32): 24 accumulators of 16 lanes, 2 loads of B + 12 broadcasts per 24 FMAs;
///   fills AVX-512's 32 vector registers (27 live) with no spill.
/// - `narrow` (6 × 16): 6 accumulators of 16 lanes (12 of 8 lanes on AVX2), for CPUs with 16
///   vector registers; it is also the portable path (any SIMD width, it only gets slower).
public enum GemmKernel: CaseIterable, Sendable {
    case wide
    case narrow

    /// Rows of A per panel.
    public var rows: Int { self == .wide ? 12 : 6 }
    /// Columns of B per panel.
    public var columns: Int { self == .wide ? 32 : 16 }

    /// The kernel for this CPU: `wide` with AVX-512, `narrow` otherwise.
    public static let preferred: GemmKernel = CPUFeatures.hasAVX512 ? .wide : .narrow
}

/// Where a micro-kernel writes its accumulators: `put(r, j, v)` receives tile row `r`'s 16
/// lanes for columns `j ..< j + 16`.
protocol GemmTileSink {
    func put(_ r: Int, _ j: Int, _ v: V16)
}

/// Where one micro-kernel's tile lands in C, and how.
struct GemmTileTarget: GemmTileSink {
    let c: UnsafeMutablePointer<Float>
    let ldc: Int
    /// Live rows and columns of the tile (the packed panels are zero-padded beyond them).
    let rows: Int
    let columns: Int
    /// Add to C (true) or overwrite it.
    let add: Bool

    /// Writes row `r`'s 16 lanes starting at column `j`, honouring the live extent.
    @inline(__always)
    func put(_ r: Int, _ j: Int, _ v: V16) {
        if r >= rows || j >= columns { return }
        let p = c + r * ldc + j
        if j + 16 <= columns {
            store16(add ? load16(p) + v : v, p)
        } else {
            for lane in 0..<(columns - j) { p[lane] = add ? p[lane] + v[lane] : v[lane] }
        }
    }
}

/// Where a micro-kernel reads its `mr` rows of A: element `(r, p)` of the panel.
protocol GemmRowSource {
    func value(_ r: Int, _ p: Int, _ mr: Int) -> Float
}

/// A packed panel `[kc][mr]`.
struct PackedRows: GemmRowSource {
    let base: UnsafePointer<Float>
    @inline(__always)
    func value(_ r: Int, _ p: Int, _ mr: Int) -> Float { base[p &* mr &+ r] }
}

/// `mr` whole rows of a row-major A read in place (row stride `rowStride`, depth contiguous):
/// the broadcasts stream along `mr` rows, so A needs no packing.
struct InPlaceRows: GemmRowSource {
    let base: UnsafePointer<Float>
    let rowStride: Int
    @inline(__always)
    func value(_ r: Int, _ p: Int, _ mr: Int) -> Float { base[r &* rowStride &+ p] }
}

enum GemmMicroKernels {
    /// 12 rows × 32 columns over `kc` depth steps.
    @inline(never)
    static func wide<A: GemmRowSource, Out: GemmTileSink>(_ kc: Int, _ a: A, _ pb: UnsafePointer<Float>, _ out: Out) {
        var c00 = V16(), c01 = V16(), c10 = V16(), c11 = V16(), c20 = V16(), c21 = V16()
        var c30 = V16(), c31 = V16(), c40 = V16(), c41 = V16(), c50 = V16(), c51 = V16()
        var c60 = V16(), c61 = V16(), c70 = V16(), c71 = V16(), c80 = V16(), c81 = V16()
        var c90 = V16(), c91 = V16(), ca0 = V16(), ca1 = V16(), cb0 = V16(), cb1 = V16()
        var b = pb
        for p in 0..<kc {
            let b0 = load16(b), b1 = load16(b + 16)
            var s = V16(repeating: a.value(0, p, 12)); c00.addProduct(s, b0); c01.addProduct(s, b1)
            s = V16(repeating: a.value(1, p, 12)); c10.addProduct(s, b0); c11.addProduct(s, b1)
            s = V16(repeating: a.value(2, p, 12)); c20.addProduct(s, b0); c21.addProduct(s, b1)
            s = V16(repeating: a.value(3, p, 12)); c30.addProduct(s, b0); c31.addProduct(s, b1)
            s = V16(repeating: a.value(4, p, 12)); c40.addProduct(s, b0); c41.addProduct(s, b1)
            s = V16(repeating: a.value(5, p, 12)); c50.addProduct(s, b0); c51.addProduct(s, b1)
            s = V16(repeating: a.value(6, p, 12)); c60.addProduct(s, b0); c61.addProduct(s, b1)
            s = V16(repeating: a.value(7, p, 12)); c70.addProduct(s, b0); c71.addProduct(s, b1)
            s = V16(repeating: a.value(8, p, 12)); c80.addProduct(s, b0); c81.addProduct(s, b1)
            s = V16(repeating: a.value(9, p, 12)); c90.addProduct(s, b0); c91.addProduct(s, b1)
            s = V16(repeating: a.value(10, p, 12)); ca0.addProduct(s, b0); ca1.addProduct(s, b1)
            s = V16(repeating: a.value(11, p, 12)); cb0.addProduct(s, b0); cb1.addProduct(s, b1)
            b += 32
        }
        out.put(0, 0, c00); out.put(0, 16, c01); out.put(1, 0, c10); out.put(1, 16, c11)
        out.put(2, 0, c20); out.put(2, 16, c21); out.put(3, 0, c30); out.put(3, 16, c31)
        out.put(4, 0, c40); out.put(4, 16, c41); out.put(5, 0, c50); out.put(5, 16, c51)
        out.put(6, 0, c60); out.put(6, 16, c61); out.put(7, 0, c70); out.put(7, 16, c71)
        out.put(8, 0, c80); out.put(8, 16, c81); out.put(9, 0, c90); out.put(9, 16, c91)
        out.put(10, 0, ca0); out.put(10, 16, ca1); out.put(11, 0, cb0); out.put(11, 16, cb1)
    }

    /// 6 rows × 16 columns over `kc` depth steps.
    @inline(never)
    static func narrow<A: GemmRowSource>(_ kc: Int, _ a: A, _ pb: UnsafePointer<Float>, _ out: GemmTileTarget) {
        var c0 = V16(), c1 = V16(), c2 = V16(), c3 = V16(), c4 = V16(), c5 = V16()
        var b = pb
        for p in 0..<kc {
            let b0 = load16(b)
            c0.addProduct(V16(repeating: a.value(0, p, 6)), b0); c1.addProduct(V16(repeating: a.value(1, p, 6)), b0)
            c2.addProduct(V16(repeating: a.value(2, p, 6)), b0); c3.addProduct(V16(repeating: a.value(3, p, 6)), b0)
            c4.addProduct(V16(repeating: a.value(4, p, 6)), b0); c5.addProduct(V16(repeating: a.value(5, p, 6)), b0)
            b += 16
        }
        out.put(0, 0, c0); out.put(1, 0, c1); out.put(2, 0, c2)
        out.put(3, 0, c3); out.put(4, 0, c4); out.put(5, 0, c5)
    }
}
