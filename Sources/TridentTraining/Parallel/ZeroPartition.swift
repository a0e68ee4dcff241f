/// Which part of a rank's parameters each replica of its data-parallel group owns under ZeRO-1
/// (DeepSpeed's stage 1, Megatron's distributed optimizer): the AdamW moments of an element
/// live only on its owner, which alone updates it.
///
/// Parameters are bucketed as `ParameterBuckets` does (reverse forward order, a bucket closing
/// once it holds `bucketBytes`), except that an `isolated` parameter always forms a bucket of
/// its own (the tied embedding, so that both pipeline ends own the same rows of it). Bucket `b`
/// of `n` elements is viewed as one flat vector padded to `D · S`, `S = ⌈n / D⌉`; replica `r`
/// owns `[r·S, min((r+1)·S, n))` of it (the last replicas own fewer, or none, when `D ∤ n`).
/// A parameter never straddles two buckets, so the part of it a replica owns is one contiguous
/// range of its local elements (possibly empty).
///
/// Worked example: sizes `[5, 3, 4]`, one bucket (`bucketBytes` large), `D = 3`: the bucket is
/// parameters 2, 1, 0 (12 elements, `S = 4`); replica 0 owns bucket elements 0..<4 = all of
/// parameter 2, replica 1 owns 4..<8 = parameter 1 and the first element of parameter 0,
/// replica 2 owns 8..<12 = the last four elements of parameter 0.
public struct ZeroPartition: Sendable, Equatable {
    /// One bucket: its parameters and where they sit in its flat vector.
    public struct Bucket: Sendable, Equatable {
        /// Parameter indices, descending (reverse forward order).
        public var members: [Int]
        /// Element offset of each member inside the bucket.
        public var offsets: [Int]
        /// `n`: elements of the bucket.
        public var count: Int
        /// `S = ⌈n / D⌉`: elements per replica of the padded bucket.
        public var shard: Int
        /// The bucket elements this replica owns, `[r·S, min((r+1)·S, n))` (clamped to `n`).
        public var owned: Range<Int>
    }

    public let replicas: Int
    public let replica: Int
    public let buckets: [Bucket]
    /// Per parameter: its bucket.
    public let bucketOfParameter: [Int]
    /// Per parameter: its element offset inside its bucket.
    public let offsetInBucket: [Int]
    /// Per parameter: the local elements this replica owns (`lowerBound == upperBound`: none).
    public let ownedRanges: [Range<Int>]

    /// - Parameters:
    ///   - sizes: element counts of the parameters, in forward order (the same on every replica).
    ///   - bucketBytes: bucket size in bytes (f32 elements).
    ///   - replicas: `D`, the data-parallel group size; `replica`: this rank's place in it.
    ///   - isolated: parameters that form a bucket on their own.
    public init(sizes: [Int], bucketBytes: Int, replicas: Int, replica: Int, isolated: Set<Int> = []) {
        precondition(replicas >= 1 && (0..<replicas).contains(replica) && bucketBytes > 0 && sizes.allSatisfy { $0 >= 0 },
                     "bad ZeRO partition: \(replicas) replicas, replica \(replica), bucket \(bucketBytes) bytes")
        self.replicas = replicas
        self.replica = replica
        var groups: [[Int]] = [], current: [Int] = [], bytes = 0
        for index in sizes.indices.reversed() {
            if isolated.contains(index) {
                if !current.isEmpty { groups.append(current); current = []; bytes = 0 }
                groups.append([index])
                continue
            }
            current.append(index)
            bytes += sizes[index] * MemoryLayout<Float>.stride
            if bytes >= bucketBytes { groups.append(current); current = []; bytes = 0 }
        }
        if !current.isEmpty { groups.append(current) }
        var bucketOf = [Int](repeating: 0, count: sizes.count), offsetOf = bucketOf
        var owned = [Range<Int>](repeating: 0..<0, count: sizes.count)
        buckets = groups.enumerated().map { b, members in
            var offsets: [Int] = [], total = 0
            for member in members { offsets.append(total); offsetOf[member] = total; total += sizes[member]; bucketOf[member] = b }
            let shard = (total + replicas - 1) / replicas
            let mine = min(replica * shard, total)..<min((replica + 1) * shard, total)
            for (member, offset) in zip(members, offsets) {
                let lower = max(mine.lowerBound, offset), upper = min(mine.upperBound, offset + sizes[member])
                owned[member] = lower < upper ? (lower - offset)..<(upper - offset) : 0..<0
            }
            return Bucket(members: members, offsets: offsets, count: total, shard: shard, owned: mine)
        }
        bucketOfParameter = bucketOf
        offsetInBucket = offsetOf
        ownedRanges = owned
    }

    /// Elements this replica owns over all buckets (the size of its moment slices).
    public var ownedCount: Int { buckets.reduce(0) { $0 + $1.owned.count } }

    /// Where parameter `index`'s owned elements sit inside its bucket's `[S]` slice.
    public func sliceRange(of index: Int) -> Range<Int> {
        guard !ownedRanges[index].isEmpty else { return 0..<0 }
        let start = offsetInBucket[index] + ownedRanges[index].lowerBound - buckets[bucketOfParameter[index]].owned.lowerBound
        return start..<(start + ownedRanges[index].count)
    }
}
