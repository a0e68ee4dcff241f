import TridentEngine

/// Megatron's interleaved 1F1B as data: `ranks` ranks, `chunks` model chunks each (V),
/// `microBatches` micro-batches (M, a multiple of the rank count).
///
/// Forward step `i` of a rank runs chunk `(i mod P·V) / P` on micro-batch
/// `(i / (P·V))·P + i mod P` (groups of P micro-batches go through each chunk in turn);
/// backward step `i` the same micro-batch on chunk `V − 1 − (i mod P·V) / P`. Rank `r` warms up
/// with `(P − r − 1)·2 + (V − 1)·P` forwards (at most all `M·V`), then alternates one forward and
/// one backward, then drains. Bubble `(P − 1) / (V·M + P − 1)` with uniform costs.
public struct InterleavedSchedule: Sendable {
    public let ranks: Int
    public let chunks: Int
    public let microBatches: Int
    /// `actions[r]`: rank r's program.
    public let actions: [[ChunkedAction]]

    /// The programs are checked by `PipelineScheduleValidator` (the one simulation of every
    /// schedule), which also measures `peakLiveChunks`.
    /// - Throws: `InterleavedScheduleError` when M is not a positive multiple of P or V < 1;
    ///   `PipelineScheduleError` if the programs would not run (a builder bug).
    public init(ranks: Int, chunks: Int, microBatches: Int) throws {
        guard ranks >= 1, chunks >= 1, microBatches >= 1, microBatches % ranks == 0 else {
            throw InterleavedScheduleError(detail: "interleaved 1F1B needs --accumulate (\(microBatches)) to be a positive multiple of --pp (\(ranks)) and --virtual-stages (\(chunks)) >= 1")
        }
        self.ranks = ranks
        self.chunks = chunks
        self.microBatches = microBatches
        actions = (0..<ranks).map { Self.program(rank: $0, ranks: ranks, chunks: chunks, microBatches: microBatches) }
        peakLiveChunks = try PipelineScheduleValidator().simulate(schedule).peakActivationsHeld
    }

    /// The programs as a schedule the validator checks.
    public var schedule: ChunkedPipelineSchedule {
        ChunkedPipelineSchedule(ranks: ranks, chunks: chunks, microBatches: microBatches, actions: actions)
    }

    /// Per rank, the most (chunk, micro-batch) forwards whose backward had not run yet, as the
    /// validator's simulation of the programs found.
    public private(set) var peakLiveChunks: [Int] = []

    /// The fraction of a step each rank idles with uniform costs: `(P − 1) / (V·M + P − 1)`.
    public static func bubbleFraction(ranks: Int, chunks: Int, microBatches: Int) -> Double {
        Double(ranks - 1) / Double(chunks * microBatches + ranks - 1)
    }

    /// (chunk, micro-batch) of forward step `i` (backward: `backward` true).
    static func item(_ i: Int, ranks p: Int, chunks v: Int, backward: Bool) -> (chunk: Int, microBatch: Int) {
        let inGroup = i % (p * v)
        let chunk = inGroup / p
        return (backward ? v - 1 - chunk : chunk, (i / (p * v)) * p + i % p)
    }

    static func program(rank r: Int, ranks p: Int, chunks v: Int, microBatches m: Int) -> [ChunkedAction] {
        let total = m * v, last = p * v - 1
        let previous = (r - 1 + p) % p, next = (r + 1) % p
        func forward(_ i: Int) -> [ChunkedAction] {
            let (c, mb) = item(i, ranks: p, chunks: v, backward: false)
            let k = c * p + r
            var list: [ChunkedAction] = []
            if k > 0 { list.append(ChunkedAction(.receiveActivations, chunk: c, microBatch: mb, peer: previous)) }
            list.append(ChunkedAction(.forward, chunk: c, microBatch: mb))
            if k < last { list.append(ChunkedAction(.sendActivations, chunk: c, microBatch: mb, peer: next)) }
            return list
        }
        func backward(_ i: Int) -> [ChunkedAction] {
            let (c, mb) = item(i, ranks: p, chunks: v, backward: true)
            let k = c * p + r
            var list: [ChunkedAction] = []
            if k < last { list.append(ChunkedAction(.receiveGradients, chunk: c, microBatch: mb, peer: next)) }
            list.append(ChunkedAction(.backward, chunk: c, microBatch: mb))
            if k > 0 { list.append(ChunkedAction(.sendGradients, chunk: c, microBatch: mb, peer: previous)) }
            return list
        }
        let warmUp = min((p - r - 1) * 2 + (v - 1) * p, total)
        var list = (0..<warmUp).flatMap(forward)
        for j in 0 ..< total - warmUp { list += forward(warmUp + j) + backward(j) }
        for j in total - warmUp ..< total { list += backward(j) }
        return list
    }
}

/// An interleaved schedule that cannot be built or would not run.
public struct InterleavedScheduleError: Error, CustomStringConvertible, Equatable {
    public var detail: String
    public var description: String { detail }
}
