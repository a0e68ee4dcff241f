import Foundation
import Testing
@testable import TridentKernels

/// The vectorised helpers against scalar Double arithmetic.
@Suite struct TrainingSIMDTests {
    /// exp16 within 3e-7 relative of Double exp over [-87, 88] (about 2.5 ulp).
    @Test func exp16MatchesDouble() {
        var worst = 0.0
        var x: Float = -87
        while x <= 88 {
            let lanes = V16((0..<16).map { x + Float($0) * 0.0037 })
            let got = exp16(lanes)
            for i in 0..<16 where lanes[i] <= 88 {
                let want = exp(Double(lanes[i]))
                worst = max(worst, abs(Double(got[i]) - want) / want)
            }
            x += 0.0591
        }
        #expect(worst < 3e-7)
    }

    /// Sum of exponentials, scaled exponentials and the maximum on lengths around the 16-lane width.
    @Test(arguments: [0, 1, 15, 16, 17, 33, 100])
    func rowHelpersMatchDouble(count: Int) {
        let x = randomFloats(count, in: -20...5, seed: UInt64(500 + count))
        var out = [Float](repeating: .nan, count: count)
        let (sum, maximum) = x.withUnsafeBufferPointer { xp -> (Float, Float) in
            let base = xp.baseAddress ?? UnsafePointer(bitPattern: 16)!
            out.withBase { writeScaledExponentials(base, $0, count, shift: 1.5, scale: 0.25) }
            return (sumOfExponentials(base, count, shift: 1.5), maximumValue(base, count))
        }
        let want = x.map { exp(Double($0) - 1.5) }
        #expect(abs(Double(sum) - want.reduce(0, +)) <= 1e-6 * max(1e-30, want.reduce(0, +)))
        #expect(zip(out, want).allSatisfy { abs(Double($0) - 0.25 * $1) <= 1e-6 * 0.25 * $1 })
        #expect(maximum == (x.max() ?? -.infinity))
    }
}
