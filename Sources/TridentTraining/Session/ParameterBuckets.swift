import Synchronization
import TridentCollectives

/// Data-parallel gradient summation over a model's own gradient buffers, in buckets that start
/// during the last micro-batch's backward (PyTorch DDP's bucketing, adapted to gradients that
/// live in separate buffers owned by the model's layers).
///
/// Parameters are bucketed in reverse forward order (the backward makes the last ones final
/// first), a bucket closing once it holds about `bucketBytes`. When the last parameter of a
/// bucket is reported ready, the bucket starts on a background queue, buckets always in index
/// order so that every replica issues the same collectives in the same order:
/// - a bucket of one parameter is all-reduced in place in that parameter's gradient (zero copy;
///   a large embedding or projection is such a bucket);
/// - a bucket of several is packed into one staging buffer `[Σ sizes]` on the backward thread
///   (the parameters are final, nobody writes them again this step), all-reduced, and unpacked
///   by the queue thread after the reduce, so the copy back is hidden too.
///
/// The reduction is a sum: each replica's gradients are already scaled by the step's global
/// target count (`denominator` of `TrainableModel.accumulateGradients`).
///
/// Every rank of `group` must build its buckets from the same parameter sizes and call
/// `finish()` once per step. Not thread-safe: call from the thread that runs the backward.
public final class ParameterBuckets {
    public let group: any Communicator
    /// `bucketParameters[b]`: parameter indices of bucket `b`, descending.
    public let bucketParameters: [[Int]]
    private let gradients: [SendableGradient]
    private let staging: [SendableGradient?]           // per bucket: [Σ sizes] for multi-parameter buckets
    private let bucketOfParameter: [Int]
    private var ready: [Bool]
    private var missing: [Int]
    private var nextToStart = 0
    private var handles: [CollectiveHandle] = []
    private let queue: CollectiveQueue?
    private let busy = BusyTime()
    /// Time the buckets' all-reduces ran during the last finished step, hidden or not.
    public private(set) var lastCommunicationTime: Duration = .zero
    /// Records each bucket's all-reduce on the async row (nil: not traced).
    public var trace: TraceRecorder?

    /// - Parameters:
    ///   - gradients: the parameters' gradient buffers, in forward order (`[size]` f32 each).
    ///   - bucketBytes: bucket size in bytes (`--bucket-mb` × 2²⁰).
    ///   - group: the data-parallel group; of size 1, nothing is ever communicated.
    public init(gradients: [UnsafeMutableBufferPointer<Float>], bucketBytes: Int, group: any Communicator) {
        precondition(bucketBytes > 0, "bucket size must be positive")
        self.group = group
        self.gradients = gradients.map(SendableGradient.init)
        var buckets: [[Int]] = [], current: [Int] = [], bytes = 0
        for index in gradients.indices.reversed() {
            current.append(index)
            bytes += gradients[index].count * MemoryLayout<Float>.stride
            if bytes >= bucketBytes { buckets.append(current); current = []; bytes = 0 }
        }
        if !current.isEmpty { buckets.append(current) }
        bucketParameters = buckets
        var owner = [Int](repeating: 0, count: gradients.count)
        for (b, members) in buckets.enumerated() { for p in members { owner[p] = b } }
        bucketOfParameter = owner
        let distributed = group.size > 1
        staging = buckets.map { members in
            guard distributed && members.count > 1 else { return nil }
            let count = members.reduce(0) { $0 + gradients[$1].count }
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(count, 1))
            buffer.initialize(repeating: 0)
            return SendableGradient(UnsafeMutableBufferPointer(rebasing: buffer[0..<count]))
        }
        ready = [Bool](repeating: false, count: gradients.count)
        missing = buckets.map(\.count)
        queue = distributed ? CollectiveQueue() : nil
    }

    deinit {
        for handle in handles { try? handle.wait() }
        queue?.shutdown()
        for buffer in staging { buffer?.value.baseAddress.map { $0.deallocate() } }
    }

    /// Marks parameter `index`'s gradient final for this step; starts every bucket now
    /// complete, in bucket order. A parameter reported twice is ignored.
    public func markReady(_ index: Int) {
        guard gradients.indices.contains(index), !ready[index] else { return }
        ready[index] = true
        missing[bucketOfParameter[index]] -= 1
        while nextToStart < bucketParameters.count && missing[nextToStart] == 0 {
            if let queue { handles.append(start(bucket: nextToStart, on: queue)) }
            nextToStart += 1
        }
    }

    /// Marks every parameter not yet reported (a model that reports none, or only some).
    public func markAllReady() {
        for index in gradients.indices where !ready[index] { markReady(index) }
    }

    private func start(bucket index: Int, on queue: CollectiveQueue) -> CollectiveHandle {
        let members = bucketParameters[index].map { gradients[$0] }
        let group = self.group, busy = self.busy, trace = self.trace
        let stage = staging[index]
        if let stage {
            var offset = 0
            for member in members {
                UnsafeMutableBufferPointer(rebasing: stage.value[offset..<(offset + member.value.count)])
                    .update(fromContentsOf: member.value)
                offset += member.value.count
            }
        }
        return queue.submit {
            let clock = ContinuousClock()
            let began = clock.now
            defer { busy.add(clock.now - began) }
            let buffer = stage ?? members[0]
            let reduce = { try group.allReduce(UnsafeMutableRawBufferPointer(buffer.value), type: .float32, op: .sum) }
            if let trace { try trace.record("bucket \(index)", .allReduce, row: TraceRecorder.asyncRow, reduce) } else { try reduce() }
            guard let stage else { return }
            var offset = 0
            for member in members {
                member.value.update(fromContentsOf: stage.value[offset..<(offset + member.value.count)])
                offset += member.value.count
            }
        }
    }

    /// Waits for every bucket's all-reduce and resets the marks for the next step.
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
            missing = bucketParameters.map(\.count)
        }
        return try pending.waitAll()
    }
}

/// A gradient buffer handed to the collective queue's thread; the model keeps it alive, and
/// nobody touches it between its bucket's start and `finish()`.
struct SendableGradient: @unchecked Sendable {
    let value: UnsafeMutableBufferPointer<Float>
    init(_ value: UnsafeMutableBufferPointer<Float>) { self.value = value }
}

/// The buckets' all-reduce time, summed by the queue thread and taken by the backward thread.
private final class BusyTime: Sendable {
    private let total = Mutex<Duration>(.zero)
    func add(_ elapsed: Duration) { total.withLock { $0 += elapsed } }
    func take() -> Duration { total.withLock { value in defer { value = .zero }; return value } }
}
