/// One line of an all-reduce benchmark (nccl-tests conventions).
public struct AllReduceBenchmarkResult: Sendable, Equatable {
    /// Buffer size in bytes (Float32 elements x 4).
    public var bytes: Int
    /// Median time of one all-reduce, the slowest rank's median.
    public var seconds: Double
    /// Algorithm bandwidth: bytes / seconds, in GB/s (1e9).
    public var algorithmBandwidth: Double
    /// Bus bandwidth: algbw * 2(n-1)/n, in GB/s.
    public var busBandwidth: Double
    /// Algorithm name reported by the backend (`CollectiveAlgorithmReporting`), or `"unknown"`.
    public var algorithm: String
    /// Whether every result on every rank equalled the expected sum.
    public var correct: Bool

    /// The object printed by `trident bench allreduce --json` for this size.
    public var json: String {
        "{\"bytes\":\(bytes),\"seconds\":\(seconds),\"algbw_gbps\":\(algorithmBandwidth),"
            + "\"busbw_gbps\":\(busBandwidth),\"algorithm\":\"\(algorithm)\",\"correct\":\(correct)}"
    }
}

/// Measures Float32 sum all-reduces on any communicator.
public enum CollectiveBenchmark {
    /// Runs `warmup + iterations` all-reduces per size and returns one result per size, the same
    /// on every rank. Collective: every rank of `communicator` must call it with the same arguments.
    ///
    /// Rank `r` fills element `i` with `(r + 1) * (i % 13 + 1)`, so the expected sum
    /// `(i % 13 + 1) * n(n+1)/2` is exact in Float32; every iteration's result is checked.
    /// - Parameter sizes: bytes per buffer; rounded down to a multiple of 4 (at least 4).
    public static func allReduce(on communicator: any Communicator, sizes: [Int], iterations: Int,
                                 warmup: Int = 3) throws -> [AllReduceBenchmarkResult] {
        precondition(iterations > 0, "iterations must be positive")
        return try sizes.map { try measure(communicator, bytes: max(4, $0 / 4 * 4), iterations: iterations, warmup: warmup) }
    }

    private static func measure(_ comm: any Communicator, bytes: Int, iterations: Int,
                                warmup: Int) throws -> AllReduceBenchmarkResult {
        let count = bytes / 4
        let n = comm.size
        let input = (0..<count).map { Float((comm.rank + 1) * ($0 % 13 + 1)) }
        let ranksSum = Float(n * (n + 1) / 2)
        var buffer = input
        var times: [Double] = []
        var correct = true
        for iteration in 0..<(warmup + iterations) {
            buffer.withUnsafeMutableBufferPointer { $0.update(fromContentsOf: input) }
            let started = ContinuousClock.now
            try buffer.withUnsafeMutableBytes { try comm.allReduce($0, type: .float32, op: .sum) }
            let elapsed = ContinuousClock.now - started
            if iteration >= warmup { times.append(elapsed.seconds) }
            correct = correct && buffer.withUnsafeBufferPointer { result in
                (0..<count).allSatisfy { result[$0] == Float($0 % 13 + 1) * ranksSum }
            }
        }
        let algorithm = (comm as? CollectiveAlgorithmReporting)?.lastAlgorithm ?? "unknown"
        times.sort()
        var summary: [Float] = [Float(times[times.count / 2])]
        try comm.allReduce(&summary, op: .max)
        var agreed: [Int32] = [correct ? 1 : 0]
        try comm.allReduce(&agreed, op: .min)
        let seconds = Double(summary[0])
        let algbw = Double(bytes) / seconds / 1e9
        let busbw = n > 1 ? algbw * 2 * Double(n - 1) / Double(n) : 0
        return AllReduceBenchmarkResult(bytes: bytes, seconds: seconds, algorithmBandwidth: algbw, busBandwidth: busbw,
                                        algorithm: algorithm, correct: agreed[0] == 1)
    }
}
