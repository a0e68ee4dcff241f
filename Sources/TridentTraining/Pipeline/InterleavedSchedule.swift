/// One step of a rank's program in a pipeline schedule whose ranks may hold several model
/// chunks (Megatron's interleaved 1F1B): chunk `c` of rank `r` of `P` is virtual stage
/// `c * P + r`; activations go from virtual stage `k` to `k + 1` (rank `r + 1`, or rank 0's
/// next chunk after the last rank), gradients back.
public struct ChunkedAction: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case receiveActivations, forward, sendActivations, receiveGradients, backward, sendGradients
    }
    public var kind: Kind
    /// The chunk (0 ..< V) on this rank.
    public var chunk: Int
    public var microBatch: Int
    /// The peer rank of a send or receive (unused for compute).
    public var peer: Int

    public init(_ kind: Kind, chunk: Int, microBatch: Int, peer: Int = -1) {
        self.kind = kind
        self.chunk = chunk
        self.microBatch = microBatch
        self.peer = peer
    }

    public var description: String {
        let c = "\(chunk).\(microBatch)"
        switch kind {
        case .receiveActivations: return "R\(c)<\(peer)"
        case .forward: return "F\(c)"
        case .sendActivations: return "S\(c)>\(peer)"
        case .receiveGradients: return "r\(c)<\(peer)"
        case .backward: return "B\(c)"
        case .sendGradients: return "s\(c)>\(peer)"
        }
    }
}

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

    /// - Throws: `PipelineScheduleBuildError` when M is not a positive multiple of P or V < 1.
    public init(ranks: Int, chunks: Int, microBatches: Int) throws {
        guard ranks >= 1, chunks >= 1, microBatches >= 1, microBatches % ranks == 0 else {
            throw InterleavedScheduleError(detail: "interleaved 1F1B needs --accumulate (\(microBatches)) to be a positive multiple of --pp (\(ranks)) and --virtual-stages (\(chunks)) >= 1")
        }
        self.ranks = ranks
        self.chunks = chunks
        self.microBatches = microBatches
        actions = (0..<ranks).map { Self.program(rank: $0, ranks: ranks, chunks: chunks, microBatches: microBatches) }
        peakLiveChunks = try Self.simulate(actions, ranks: ranks, chunks: chunks, microBatches: microBatches)
    }

    /// Per rank, the most (chunk, micro-batch) forwards whose backward had not run yet, as the
    /// simulation of the programs found.
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

extension InterleavedSchedule {
    /// Runs every rank's program with buffered sends and one FIFO channel per (sender,
    /// receiver, direction), as the communicators deliver: each receive must find the
    /// expected virtual stage and micro-batch; every (chunk, micro-batch) is forwarded once,
    /// backwarded once, after its forward. - Returns: per rank, the peak of live forwards.
    /// - Throws: `InterleavedScheduleError` naming the rank and action on a mismatch or deadlock.
    static func simulate(_ actions: [[ChunkedAction]], ranks p: Int, chunks v: Int,
                         microBatches m: Int) throws -> [Int] {
        var position = [Int](repeating: 0, count: p)
        var channels: [[Int]: [Int]] = [:]             // [direction, from, to] -> (virtual stage, micro-batch) codes
        var forwarded = Set<Int>(), backwarded = Set<Int>()
        var live = [Int](repeating: 0, count: p), peak = [Int](repeating: 0, count: p)
        func fail(_ r: Int, _ detail: String) -> InterleavedScheduleError {
            InterleavedScheduleError(detail: "interleaved schedule, rank \(r) action \(position[r]): \(detail)")
        }
        while position.indices.contains(where: { position[$0] < actions[$0].count }) {
            var progressed = false
            for r in 0..<p {
                rank: while position[r] < actions[r].count {
                    let a = actions[r][position[r]]
                    let k = a.chunk * p + r, code = k * m + a.microBatch
                    switch a.kind {
                    case .sendActivations: channels[[0, r, a.peer], default: []].append(code + m)
                    case .sendGradients: channels[[1, r, a.peer], default: []].append(code - m)
                    case .receiveActivations, .receiveGradients:
                        let key = [a.kind == .receiveActivations ? 0 : 1, a.peer, r]
                        guard let first = channels[key]?.first else { break rank }
                        guard first == code else { throw fail(r, "\(a) finds \(first / m).\(first % m) first") }
                        channels[key]!.removeFirst()
                    case .forward:
                        guard forwarded.insert(code).inserted else { throw fail(r, "\(a) twice") }
                        live[r] += 1
                        peak[r] = max(peak[r], live[r])
                    case .backward:
                        guard forwarded.contains(code), backwarded.insert(code).inserted else {
                            throw fail(r, "\(a) before its forward, or twice")
                        }
                        live[r] -= 1
                    }
                    position[r] += 1
                    progressed = true
                }
            }
            if !progressed {
                let waits = (0..<p).filter { position[$0] < actions[$0].count }.map { "rank \($0) at \(actions[$0][position[$0]])" }
                throw InterleavedScheduleError(detail: "interleaved schedule deadlocks: " + waits.joined(separator: ", "))
            }
        }
        guard forwarded.count == p * v * m, backwarded.count == p * v * m else {
            throw InterleavedScheduleError(detail: "interleaved schedule runs \(forwarded.count) forwards and \(backwarded.count) backwards, expected \(p * v * m) each")
        }
        return peak
    }
}

/// An interleaved schedule that cannot be built or would not run.
public struct InterleavedScheduleError: Error, CustomStringConvertible, Equatable {
    public var detail: String
    public var description: String { detail }
}
