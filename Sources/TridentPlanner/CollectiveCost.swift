import Foundation

/// Algorithms the collectives layer uses for an all-reduce.
public enum AllReduceAlgorithm: String, Sendable, Codable {
    /// Reduce-scatter then all-gather around a ring: `2(n-1)` steps of `bytes/n`.
    case ring
    /// Pairwise exchanges of the whole buffer at distances 1, 2, 4, ...: `log2 n` steps.
    case recursiveDoubling = "recursive_doubling"
    /// A group of one: no communication.
    case none
}

/// Alpha-beta (latency-bandwidth) costs of collectives.
public enum CollectiveCost {
    /// Seconds for a ring all-reduce of `bytes` over `ranks`:
    /// `2(n-1)/n * bytes / bandwidth + 2(n-1) * latency`.
    public static func ringAllReduce(bytes: Double, ranks: Int, link: Link) -> Double {
        guard ranks > 1 else { return 0 }
        let n = Double(ranks)
        return 2 * (n - 1) / n * bytes / link.bandwidth + 2 * (n - 1) * link.latency
    }

    /// Seconds for a recursive-doubling all-reduce of `bytes` over `ranks`:
    /// `log2 n * (latency + bytes / bandwidth)`; when `n` is not a power of two, `floor(log2 n)`
    /// steps plus two extra exchanges
    /// (the surplus ranks fold in first and are sent the result after).
    public static func recursiveDoublingAllReduce(bytes: Double, ranks: Int, link: Link) -> Double {
        guard ranks > 1 else { return 0 }
        let steps = Double(Int.bitWidth - 1 - ranks.leadingZeroBitCount)  // floor(log2 n)
        let powerOfTwo = ranks & (ranks - 1) == 0
        let extra: Double = powerOfTwo ? 0 : 2
        return (steps + extra) * link.sendTime(bytes: bytes)
    }

    /// The faster of the two algorithms for this message (small messages favour recursive
    /// doubling's fewer latencies, large ones the ring's smaller volume) and its time.
    public static func allReduce(bytes: Double, ranks: Int, link: Link) -> (AllReduceAlgorithm, Double) {
        guard ranks > 1 else { return (.none, 0) }
        let ring = ringAllReduce(bytes: bytes, ranks: ranks, link: link)
        let doubling = recursiveDoublingAllReduce(bytes: bytes, ranks: ranks, link: link)
        return doubling < ring ? (.recursiveDoubling, doubling) : (.ring, ring)
    }

    /// Bytes each rank sends in an all-reduce of `bytes`: ring `2(n-1)/n * bytes`,
    /// recursive doubling the whole buffer once per exchange.
    public static func allReduceBytesSentPerRank(_ algorithm: AllReduceAlgorithm, bytes: Double, ranks: Int) -> Double {
        guard ranks > 1 else { return 0 }
        switch algorithm {
        case .ring: return 2 * Double(ranks - 1) / Double(ranks) * bytes
        case .recursiveDoubling:
            let steps = Double(Int.bitWidth - 1 - ranks.leadingZeroBitCount) + (ranks & (ranks - 1) == 0 ? 0 : 2)
            return steps * bytes
        case .none: return 0
        }
    }
}

extension CollectiveCost {
    /// Seconds for a ring all-gather whose result is `bytes` on every rank:
    /// `(n-1)/n * bytes / bandwidth + (n-1) * latency`.
    public static func ringAllGather(bytes: Double, ranks: Int, link: Link) -> Double {
        guard ranks > 1 else { return 0 }
        let n = Double(ranks)
        return (n - 1) / n * bytes / link.bandwidth + (n - 1) * link.latency
    }
}
