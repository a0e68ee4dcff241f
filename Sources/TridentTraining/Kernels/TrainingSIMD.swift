// Small always-inlined SIMD building blocks for the training kernels (TridentKernels keeps
// its own copies internal). Lane loops are left to LLVM, which maps them to vector registers
// when the package is built with `-target-cpu`.

typealias V16 = SIMD16<Float>

/// Loads 16 floats from `p` (no alignment needed).
@inline(__always)
func load16(_ p: UnsafePointer<Float>) -> V16 {
    UnsafeRawPointer(p).loadUnaligned(as: V16.self)
}

/// Stores 16 floats at `p` (no alignment needed).
@inline(__always)
func store16(_ v: V16, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V16.self)
}

/// Σ a[i]·b[i] over `count` floats, 16 lanes at a time.
@inline(__always)
func dotProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
    var acc0 = V16(), acc1 = V16()
    var i = 0
    while i + 32 <= count {
        acc0.addProduct(load16(a + i), load16(b + i))
        acc1.addProduct(load16(a + i + 16), load16(b + i + 16))
        i += 32
    }
    while i + 16 <= count {
        acc0.addProduct(load16(a + i), load16(b + i))
        i += 16
    }
    var sum = (acc0 + acc1).sum()
    while i < count {
        sum += a[i] * b[i]
        i += 1
    }
    return sum
}

/// `y[i] += alpha * x[i]` over `count` floats.
@inline(__always)
func addScaled(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
    let a = V16(repeating: alpha)
    var i = 0
    while i + 16 <= count {
        store16(load16(y + i).addingProduct(a, load16(x + i)), y + i)
        i += 16
    }
    while i < count {
        y[i] += alpha * x[i]
        i += 1
    }
}

/// `y[i] += x[i]` over `count` floats.
@inline(__always)
func addInPlace(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
    var i = 0
    while i + 16 <= count {
        store16(load16(y + i) + load16(x + i), y + i)
        i += 16
    }
    while i < count {
        y[i] += x[i]
        i += 1
    }
}
