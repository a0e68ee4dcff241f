import Foundation

/// Which loops attention over a KV cache uses. Every choice computes the same float32
/// attention; they differ in how often the cache is read and in vector width.
public enum AttentionKernel: String, Sendable, CaseIterable {
    /// The first kernel (`Attention.causal`): per (token, head) a `[context]` score buffer,
    /// a softmax over it, then a pass over the values. Float32 caches only; kept as the
    /// reference the tiled kernels are tested against and to compare speed.
    case scores
    /// Tiled online softmax (`Attention.tiled`) with 8-lane loops (AVX2-sized; portable).
    case narrow
    /// Tiled online softmax with 16-lane loops (AVX-512; elsewhere LLVM splits the vectors).
    case wide

    /// The kernel for this process: `wide` on CPUs with AVX-512F, else `narrow`.
    /// `TRIDENT_ATTENTION_KERNEL=scores|narrow|wide` overrides it (to compare kernels on one machine).
    public static let current: AttentionKernel = {
        if let forced = ProcessInfo.processInfo.environment["TRIDENT_ATTENTION_KERNEL"],
           let kernel = AttentionKernel(rawValue: forced) {
            return kernel
        }
        return fastest
    }()

    /// The tiled kernel for this CPU: `wide` with AVX-512F, else `narrow`.
    public static var fastest: AttentionKernel { CPUFeatures.hasAVX512 ? .wide : .narrow }
}

/// The vector width of the tiled attention loops: dot products of a query with a cached key,
/// and `y += a·x` / `y *= a` on accumulators. Both conformances compute the same sums in a
/// different order (float32 rounding only).
protocol AttentionLanes {
    /// Σ a[i]·b[i] over `count` floats.
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float
    /// `acc[e] += Σ_j weights[j] · rows[j * stride + e]` for `e < width`, `j < count`, summed
    /// in `j` order; the accumulators stay in registers while the rows stream past.
    static func accumulate(_ weights: UnsafePointer<Float>, _ rows: UnsafePointer<Float>, stride: Int, count: Int,
                           into acc: UnsafeMutablePointer<Float>, width: Int)
    /// `x[i] *= factor` over `count` floats.
    static func scale(_ x: UnsafeMutablePointer<Float>, by factor: Float, _ count: Int)
}

/// 8 float lanes (one AVX2 register).
enum NarrowLanes: AttentionLanes {
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        var a0 = F8(), a1 = F8()
        var i = 0
        while i + 16 <= count {
            a0 = fma8(load8(a + i), load8(b + i), a0)
            a1 = fma8(load8(a + i + 8), load8(b + i + 8), a1)
            i += 16
        }
        if i + 8 <= count {
            a0 = fma8(load8(a + i), load8(b + i), a0)
            i += 8
        }
        var sum = hsum8(a0 + a1)
        while i < count {
            sum += a[i] * b[i]
            i += 1
        }
        return sum
    }

    @inline(__always)
    static func accumulate(_ weights: UnsafePointer<Float>, _ rows: UnsafePointer<Float>, stride: Int, count: Int,
                           into acc: UnsafeMutablePointer<Float>, width: Int) {
        var e = 0
        while e + 32 <= width {
            var a0 = load8(acc + e), a1 = load8(acc + e + 8), a2 = load8(acc + e + 16), a3 = load8(acc + e + 24)
            for j in 0..<count {
                let w = F8(repeating: weights[j]), r = rows + j * stride + e
                a0 = fma8(w, load8(r), a0)
                a1 = fma8(w, load8(r + 8), a1)
                a2 = fma8(w, load8(r + 16), a2)
                a3 = fma8(w, load8(r + 24), a3)
            }
            store8(a0, acc + e); store8(a1, acc + e + 8); store8(a2, acc + e + 16); store8(a3, acc + e + 24)
            e += 32
        }
        while e + 8 <= width {
            var a = load8(acc + e)
            for j in 0..<count { a = fma8(F8(repeating: weights[j]), load8(rows + j * stride + e), a) }
            store8(a, acc + e)
            e += 8
        }
        accumulateTail(weights, rows, stride: stride, count: count, into: acc, from: e, to: width)
    }

    @inline(__always)
    static func scale(_ x: UnsafeMutablePointer<Float>, by factor: Float, _ count: Int) {
        VectorKernels.scale(x, by: factor, count: count)
    }
}

/// 16 float lanes (one AVX-512 register).
enum WideLanes: AttentionLanes {
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        var a0 = V16(), a1 = V16()
        var i = 0
        while i + 32 <= count {
            a0 = fma16(load16(a + i), load16(b + i), a0)
            a1 = fma16(load16(a + i + 16), load16(b + i + 16), a1)
            i += 32
        }
        if i + 16 <= count {
            a0 = fma16(load16(a + i), load16(b + i), a0)
            i += 16
        }
        var sum = horizontalSum(a0 + a1)
        while i < count {
            sum += a[i] * b[i]
            i += 1
        }
        return sum
    }

    @inline(__always)
    static func accumulate(_ weights: UnsafePointer<Float>, _ rows: UnsafePointer<Float>, stride: Int, count: Int,
                           into acc: UnsafeMutablePointer<Float>, width: Int) {
        var e = 0
        while e + 64 <= width {
            var a0 = load16(acc + e), a1 = load16(acc + e + 16), a2 = load16(acc + e + 32), a3 = load16(acc + e + 48)
            for j in 0..<count {
                let w = V16(repeating: weights[j]), r = rows + j * stride + e
                a0 = fma16(w, load16(r), a0)
                a1 = fma16(w, load16(r + 16), a1)
                a2 = fma16(w, load16(r + 32), a2)
                a3 = fma16(w, load16(r + 48), a3)
            }
            store16(a0, acc + e); store16(a1, acc + e + 16); store16(a2, acc + e + 32); store16(a3, acc + e + 48)
            e += 64
        }
        while e + 16 <= width {
            var a = load16(acc + e)
            for j in 0..<count { a = fma16(V16(repeating: weights[j]), load16(rows + j * stride + e), a) }
            store16(a, acc + e)
            e += 16
        }
        accumulateTail(weights, rows, stride: stride, count: count, into: acc, from: e, to: width)
    }

    @inline(__always)
    static func scale(_ x: UnsafeMutablePointer<Float>, by factor: Float, _ count: Int) {
        let f = V16(repeating: factor)
        var i = 0
        while i + 16 <= count {
            store16(load16(x + i) * f, x + i)
            i += 16
        }
        while i < count {
            x[i] *= factor
            i += 1
        }
    }
}

/// The scalar columns `first ..< end` of `AttentionLanes.accumulate`.
@inline(__always)
func accumulateTail(_ weights: UnsafePointer<Float>, _ rows: UnsafePointer<Float>, stride: Int, count: Int,
                    into acc: UnsafeMutablePointer<Float>, from first: Int, to end: Int) {
    for e in first..<end {
        var a = acc[e]
        for j in 0..<count { a += weights[j] * rows[j * stride + e] }
        acc[e] = a
    }
}
