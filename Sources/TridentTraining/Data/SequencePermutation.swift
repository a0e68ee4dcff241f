/// The seeded permutation of one pass over the data, specified exactly so that another
/// framework can reproduce it:
///
/// - generator: SplitMix64 with state `seed &+ pass &* 0x9E3779B97F4A7C15` (each `next`
///   adds `0x9E3779B97F4A7C15` to the state, then mixes with the constants
///   `0xBF58476D1CE4E5B9`, `0x94D049BB133111EB` and shifts 30, 27, 31);
/// - shuffle: Fisher–Yates from the back: for `i` from `count − 1` down to 1, swap entries
///   `i` and `j = bounded(i + 1)`, where `bounded(n)` is Lemire's multiply-shift with
///   rejection: draw `x`, `m = x · n` as 128 bits, reject while `low64(m) < (2⁶⁴ − n) mod n`,
///   return `high64(m)`.
public enum SequencePermutation {
    /// A permutation of `0 ..< count`.
    public static func make(count: Int, seed: UInt64, pass: UInt64) -> [Int] {
        var order = Array(0..<count)
        guard count > 1 else { return order }
        var generator = SplitMix64(state: seed &+ pass &* 0x9E37_79B9_7F4A_7C15)
        for i in stride(from: count - 1, through: 1, by: -1) {
            let j = Int(generator.bounded(UInt64(i + 1)))
            order.swapAt(i, j)
        }
        return order
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): small, fast, and fully specified.
struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `0 ..< n` (`n ≥ 1`), without modulo bias.
    mutating func bounded(_ n: UInt64) -> UInt64 {
        let threshold = (0 &- n) % n
        while true {
            let (high, low) = next().multipliedFullWidth(by: n)
            if low >= threshold { return high }
        }
    }
}
