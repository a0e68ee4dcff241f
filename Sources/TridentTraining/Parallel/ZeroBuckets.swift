import Synchronization
import TridentCollectives

/// ZeRO-1's traffic over the data-parallel group: gradients reduce-scattered bucket by bucket
/// while the backward runs (each replica receives the sum over replicas of the slice it owns,
/// `ZeroPartition`), and after the optimizer has updated each replica's slice, the parameters
/// all-gathered back so that every replica holds them all again.
///
/// Per bucket `b` (`n` elements, `S = ⌈n / D⌉`), the flat vector `[D · S]` is the parameter's
/// own gradient when the bucket is one parameter of exactly `D · S` elements (zero copy: a large
/// embedding), else a staging buffer packed on the collective queue's thread (one buffer serves
/// every bucket: the queue runs them one at a time) with its padding zeroed. The reduced slice
/// lands in `slice(b)` `[S]`, which after the optimizer step carries this replica's updated
/// values into the all-gather.
///
/// The reduction is a sum, as `ParameterBuckets`'s: each replica's gradients are already scaled
/// by the step's global target count. Every rank of `group` must build its buckets from the same
/// partition geometry, call `finish()` once per step and then `gatherParameters()`. Not
/// thread-safe: call from the thread that runs the backward.
public final class ZeroBuckets {
    public let group: any Communicator
    public let partition: ZeroPartition
    private let values: [SendableGradient]
    private let gradients: [SendableGradient]
    private let slices: UnsafeMutableBufferPointer<Float>     // [Σ_b S_b]
    private let sliceOffsets: [Int]
    private let staging: UnsafeMutableBufferPointer<Float>    // [max D · S_b over buckets that need it]
    private var ready: [Bool]
    private var missing: [Int]
    private var nextToStart = 0
    private var handles: [CollectiveHandle] = []
    private let queue: CollectiveQueue
    private let busy = ZeroBusyTime()
    /// Time the reduce-scatters ran during the last finished step, hidden or not.
    public private(set) var lastCommunicationTime: Duration = .zero
    /// Records each bucket's reduce-scatter on the async row (nil: not traced).
    public var trace: TraceRecorder?

    /// - Parameters:
    ///   - values, gradients: the parameters' buffers in forward order (`[size]` f32 each),
    ///     sized as `partition` was built.
    ///   - group: the data-parallel group, of `partition.replicas` ranks.
    public init(values: [UnsafeMutableBufferPointer<Float>], gradients: [UnsafeMutableBufferPointer<Float>],
                partition: ZeroPartition, group: any Communicator) {
        precondition(group.size == partition.replicas && group.rank == partition.replica && values.count == gradients.count,
                     "ZeRO buckets: partition for replica \(partition.replica) of \(partition.replicas), group rank \(group.rank) of \(group.size)")
        self.group = group
        self.partition = partition
        self.values = values.map(SendableGradient.init)
        self.gradients = gradients.map(SendableGradient.init)
        var offsets: [Int] = [], total = 0, largest = 0
        for bucket in partition.buckets {
            offsets.append(total)
            total += bucket.shard
            if !Self.isDirect(bucket, replicas: partition.replicas) { largest = max(largest, bucket.shard * partition.replicas) }
        }
        sliceOffsets = offsets
        slices = .allocate(capacity: max(total, 1))
        slices.initialize(repeating: 0)
        staging = .allocate(capacity: max(largest, 1))
        staging.initialize(repeating: 0)
        ready = [Bool](repeating: false, count: values.count)
        missing = partition.buckets.map(\.members.count)
        queue = CollectiveQueue()
    }

    deinit {
        for handle in handles { try? handle.wait() }
        queue.shutdown()
        slices.deallocate()
        staging.deallocate()
    }

    /// Whether bucket's flat vector is its one parameter's buffer (no staging copy).
    private static func isDirect(_ bucket: ZeroPartition.Bucket, replicas: Int) -> Bool {
        bucket.members.count == 1 && bucket.count == bucket.shard * replicas
    }

    /// Bytes this rank holds for ZeRO beyond the model: the slices and the staging buffer.
    public var bufferBytes: Int { (slices.count + staging.count) * MemoryLayout<Float>.stride }

    /// `[S_b]`: bucket `b`'s slice.
    private func slice(_ b: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(rebasing: slices[sliceOffsets[b]..<(sliceOffsets[b] + partition.buckets[b].shard)])
    }

    /// The reduced gradient of the elements of parameter `index` this replica owns (valid
    /// after `finish()`, until `gatherParameters()`); empty (nil base) when it owns none.
    public func gradientSlice(of index: Int) -> UnsafeMutableBufferPointer<Float> {
        let range = partition.sliceRange(of: index)
        guard !range.isEmpty else { return UnsafeMutableBufferPointer(start: nil, count: 0) }
        return UnsafeMutableBufferPointer(rebasing: slice(partition.bucketOfParameter[index])[range])
    }

    /// The values of parameter `index` this replica owns and updates; empty (nil base) when none.
    public func ownedValues(of index: Int) -> UnsafeMutableBufferPointer<Float> {
        let range = partition.ownedRanges[index]
        guard !range.isEmpty else { return UnsafeMutableBufferPointer(start: nil, count: 0) }
        return UnsafeMutableBufferPointer(rebasing: values[index].value[range])
    }

    /// Marks parameter `index`'s gradient final for this step; starts every bucket now
    /// complete, in bucket order. A parameter reported twice is ignored.
    public func markReady(_ index: Int) {
        guard ready.indices.contains(index), !ready[index] else { return }
        ready[index] = true
        missing[partition.bucketOfParameter[index]] -= 1
        while nextToStart < partition.buckets.count && missing[nextToStart] == 0 {
            if partition.buckets[nextToStart].shard > 0 { handles.append(startReduceScatter(bucket: nextToStart)) }
            nextToStart += 1
        }
    }

    /// Marks every parameter not yet reported.
    public func markAllReady() {
        for index in ready.indices where !ready[index] { markReady(index) }
    }

    private func startReduceScatter(bucket index: Int) -> CollectiveHandle {
        let bucket = partition.buckets[index], replicas = partition.replicas
        let members = bucket.members.map { gradients[$0] }
        let output = SendableGradient(slice(index))
        let stage = Self.isDirect(bucket, replicas: replicas)
            ? nil : SendableGradient(UnsafeMutableBufferPointer(rebasing: staging[0..<(bucket.shard * replicas)]))
        let group = self.group, busy = self.busy, trace = self.trace
        return queue.submit {
            let clock = ContinuousClock()
            let began = clock.now
            defer { busy.add(clock.now - began) }
            if let stage {
                var offset = 0
                for member in members {
                    UnsafeMutableBufferPointer(rebasing: stage.value[offset..<(offset + member.value.count)])
                        .update(fromContentsOf: member.value)
                    offset += member.value.count
                }
                UnsafeMutableBufferPointer(rebasing: stage.value[offset...]).update(repeating: 0)
            }
            let input = stage ?? members[0]
            let reduce = {
                try group.reduceScatter(UnsafeRawBufferPointer(input.value), into: UnsafeMutableRawBufferPointer(output.value),
                                        type: .float32, op: .sum)
            }
            if let trace { try trace.record("bucket \(index) reduce-scatter", .allReduce, row: TraceRecorder.asyncRow, reduce) } else { try reduce() }
        }
    }

    /// Waits for every bucket's reduce-scatter and resets the marks for the next step.
    /// - Returns: the time spent waiting here: the communication the backward did not hide.
    /// - Throws: the first `CollectiveError` of any bucket (every bucket is still waited for).
    public func finish() throws -> Duration {
        markAllReady()
        let pending = handles
        defer {
            lastCommunicationTime = busy.take()
            handles = []
            nextToStart = 0
            ready = [Bool](repeating: false, count: ready.count)
            missing = partition.buckets.map(\.members.count)
        }
        return try pending.waitAll()
    }

    /// All-gathers the parameters after this replica updated its owned elements: bucket by
    /// bucket, the owned values go into the slice, every replica's slices are gathered into the
    /// flat vector, which is unpacked into the parameters. Every rank of the group must call
    /// this after `finish()` and the optimizer step. - Returns: the time it took.
    /// - Throws: `CollectiveError`.
    public func gatherParameters() throws -> Duration {
        let clock = ContinuousClock()
        let began = clock.now
        for (b, bucket) in partition.buckets.enumerated() where bucket.shard > 0 {
            let mine = slice(b)
            for member in bucket.members {
                let owned = ownedValues(of: member)
                guard owned.count > 0 else { continue }
                UnsafeMutableBufferPointer(rebasing: mine[partition.sliceRange(of: member)]).update(fromContentsOf: owned)
            }
            UnsafeMutableBufferPointer(rebasing: mine[bucket.owned.count...]).update(repeating: 0)
            let direct = Self.isDirect(bucket, replicas: partition.replicas)
            let flat = direct ? values[bucket.members[0]].value
                : UnsafeMutableBufferPointer(rebasing: staging[0..<(bucket.shard * partition.replicas)])
            try group.allGather(UnsafeRawBufferPointer(mine), into: UnsafeMutableRawBufferPointer(flat))
            guard !direct else { continue }
            for (member, offset) in zip(bucket.members, bucket.offsets) {
                values[member].value.update(fromContentsOf: flat[offset..<(offset + values[member].value.count)])
            }
        }
        return clock.now - began
    }
}

/// The reduce-scatters' time, summed by the queue thread and taken by the backward thread.
private final class ZeroBusyTime: Sendable {
    private let total = Mutex<Duration>(.zero)
    func add(_ elapsed: Duration) { total.withLock { $0 += elapsed } }
    func take() -> Duration { total.withLock { value in defer { value = .zero }; return value } }
}
