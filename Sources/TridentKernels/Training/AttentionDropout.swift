/// Dropout on attention probabilities, with masks independent of the layout: probability
/// `(t, h, p)` (query token, head, key position) of a sequence is kept when
/// `random.uniform(stream, index: ((rowOffset + t) · totalHeads + globalHeads[h]) · positions + p) >= probability`,
/// where `positions = startPosition + tokens` of the call. A rank passes the global index of
/// each of its heads, so every layout draws the same mask for the same global head.
/// Kept probabilities are scaled by `1 / (1 − probability)`; the log-sum-exp saved by the
/// forward is that of the undropped scores.
public struct AttentionDropout: Sendable, Equatable {
    public var probability: Float
    public var random: CounterRandom
    public var stream: UInt64
    /// Row (token) offset of this sequence within the step (`j · L` for the step's `j`-th sequence).
    public var rowOffset: Int
    /// Global head index of each local query head.
    public var globalHeads: [Int]
    public var totalHeads: Int

    public init(probability: Float, random: CounterRandom, stream: UInt64, rowOffset: Int, globalHeads: [Int], totalHeads: Int) {
        precondition(probability >= 0 && probability < 1, "dropout probability \(probability) outside [0, 1)")
        precondition(globalHeads.allSatisfy { (0..<totalHeads).contains($0) }, "global heads outside 0..<\(totalHeads)")
        self.probability = probability
        self.random = random
        self.stream = stream
        self.rowOffset = rowOffset
        self.globalHeads = globalHeads
        self.totalHeads = totalHeads
    }

    /// `0` or `1 / (1 − probability)` for query `t`, local head `h`, key position `p`.
    @inline(__always)
    func factor(t: Int, h: Int, p: Int, positions: Int) -> Float {
        let index = ((rowOffset + t) * totalHeads + globalHeads[h]) * positions + p
        return random.uniform(stream: stream, index: UInt64(index)) >= probability ? 1 / (1 - probability) : 0
    }
}

extension Optional where Wrapped == AttentionDropout {
    /// 1 without dropout.
    @inline(__always)
    func factor(t: Int, h: Int, p: Int, positions: Int) -> Float {
        guard let dropout = self, dropout.probability > 0 else { return 1 }
        return dropout.factor(t: t, h: h, p: p, positions: positions)
    }
}
