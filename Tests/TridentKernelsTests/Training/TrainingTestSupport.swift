import Foundation
import TridentKernels

/// Central finite differences of a scalar function evaluated in Double:
/// `(f(x + h·e_i) − f(x − h·e_i)) / 2h` for every `i` (error O(h²) + rounding ≈ 1e-10 for h = 1e-5).
func finiteDifferences(_ x: [Float], step h: Double = 1e-5, _ f: ([Double]) -> Double) -> [Double] {
    var point = x.map(Double.init)
    return (0..<x.count).map { i in
        let saved = point[i]
        point[i] = saved + h
        let plus = f(point)
        point[i] = saved - h
        let minus = f(point)
        point[i] = saved
        return (plus - minus) / (2 * h)
    }
}

/// Largest `|a − b|` divided by `max(1, max |b|)`: absolute for gradients of order 1, relative for larger ones.
func scaledError(_ a: [Float], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "length \(a.count) vs \(b.count)")
    let scale = max(1, b.map { abs($0) }.max() ?? 0)
    var worst = 0.0
    for i in 0..<a.count { worst = max(worst, abs(Double(a[i]) - b[i])) }
    return worst / scale
}

/// Σ r[i]·y[i]: the scalar "loss" whose gradient w.r.t. y is the fixed random `r`.
func weightedSum(_ y: [Double], _ r: [Float]) -> Double {
    var s = 0.0
    for i in 0..<y.count { s += y[i] * Double(r[i]) }
    return s
}

/// Pools of 1 and 3 threads (3 > cores on the build machine: exercises the dynamic split).
let testPools = [ThreadPool(threadCount: 1), ThreadPool(threadCount: 3)]

extension Array where Element == Float {
    /// Calls `body` with a mutable base pointer (never nil, even when empty).
    mutating func withBase<R>(_ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        if isEmpty { var one: [Float] = [0]; return try one.withUnsafeMutableBufferPointer { try body($0.baseAddress!) } }
        return try withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
    }
}
