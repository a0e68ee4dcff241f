import Foundation
import Testing
@testable import TridentCollectives
import TridentTestSupport

/// Deterministic pseudo-random floats in [-1, 1) for rank `rank` (SplitMix64).
func testValues(count: Int, rank: Int, salt: UInt64 = 0) -> [Float] {
    var state = UInt64(rank + 1) &* 0x9E37_79B9_7F4A_7C15 &+ salt
    return (0..<count).map { _ in
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Float(z >> 40) / Float(1 << 23) - 1
    }
}
