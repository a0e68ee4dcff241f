import TridentCollectives


/// Rank `rank`'s test data: `count` floats in [-1, 1), from a cheap integer hash (fast in debug builds).
func randomFloats(rank: Int, count: Int, salt: UInt64 = 0) -> [Float] {
    let seed = (UInt64(rank) &+ 1) &* 0xD1B5_4A32_D192_ED03 &+ salt
    return (0..<count).map { i in
        var h = (UInt64(i) &+ seed) &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 29
        h = h &* 0xBF58_476D_1CE4_E5B9
        return Float(h >> 40) / 8_388_608 - 1
    }
}

/// Rank `rank`'s test integers in [-1000, 1000].
func randomInts(rank: Int, count: Int) -> [Int32] {
    randomFloats(rank: rank, count: count, salt: 77).map { Int32($0 * 1000) }
}

/// Element-wise expectation over all ranks' data, computed in Double.
func expected(_ op: ReduceOperation, _ perRank: [[Float]]) -> [Double] {
    guard let first = perRank.first else { return [] }
    var result = first.map { Double($0) }
    for values in perRank.dropFirst() {
        for i in 0..<result.count {
            let v = Double(values[i])
            switch op {
            case .sum: result[i] += v
            case .max: result[i] = max(result[i], v)
            case .min: result[i] = min(result[i], v)
            }
        }
    }
    return result
}

/// Largest absolute difference between `actual` and `reference`.
func maxError(_ actual: [Float], _ reference: [Double]) -> Double {
    precondition(actual.count == reference.count, "length \(actual.count) vs \(reference.count)")
    var worst = 0.0
    for i in 0..<actual.count { worst = max(worst, abs(Double(actual[i]) - reference[i])) }
    return worst
}

let worldSizes = Array(1...8)
