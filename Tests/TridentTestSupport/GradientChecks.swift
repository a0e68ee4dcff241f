import Foundation
import TridentKernels

// Helpers shared by the kernel, model and training tests: seeded random data, central finite
// differences in Double, and error measures.

/// Deterministic SplitMix64 so failures reproduce.
public struct TestGenerator: RandomNumberGenerator {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// `count` uniform floats in `range`.
public func randomFloats(_ count: Int, in range: ClosedRange<Float> = -1...1, seed: UInt64) -> [Float] {
    var rng = TestGenerator(seed: seed)
    return (0..<count).map { _ in Float.random(in: range, using: &rng) }
}

/// Central finite differences of a scalar function evaluated in Double:
/// `(f(x + h·e_i) − f(x − h·e_i)) / 2h` for every `i` (error O(h²) + rounding ≈ 1e-10 for h = 1e-5).
public func finiteDifferences(_ x: [Float], step h: Double = 1e-5, _ f: ([Double]) -> Double) -> [Double] {
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
public func scaledError(_ a: [Float], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "length \(a.count) vs \(b.count)")
    let scale = max(1, b.map { abs($0) }.max() ?? 0)
    var worst = 0.0
    for i in 0..<a.count { worst = max(worst, abs(Double(a[i]) - b[i])) }
    return worst / scale
}

/// Σ r[i]·y[i]: the scalar "loss" whose gradient w.r.t. y is the fixed random `r`.
public func weightedSum(_ y: [Double], _ r: [Float]) -> Double {
    var s = 0.0
    for i in 0..<y.count { s += y[i] * Double(r[i]) }
    return s
}

/// Pools of 1 and 3 threads (3 > cores on the build machine: exercises the dynamic split).
public let testPools = [ThreadPool(threadCount: 1), ThreadPool(threadCount: 3)]

extension Array where Element == Float {
    /// Calls `body` with a mutable base pointer (never nil, even when empty).
    public mutating func withBase<R>(_ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        if isEmpty { var one: [Float] = [0]; return try one.withUnsafeMutableBufferPointer { try body($0.baseAddress!) } }
        return try withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
    }
}
