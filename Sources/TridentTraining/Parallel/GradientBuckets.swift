import Synchronization
import TridentCollectives

/// Data-parallel gradient averaging in buckets, overlapped with the backward pass
/// (PyTorch DDP / Megatron's `DistributedDataParallel` with a contiguous grad buffer).
///
/// Parameters are registered in the order the forward uses them. Their gradients live in
/// one flat f32 buffer laid out in *reverse* order (the backward produces the last
/// parameters first) and cut into buckets of about `bucketBytes` (a bucket closes once it
/// reaches the size; a parameter never straddles two buckets). Layers accumulate into
/// `gradient(of:)`; when a parameter's gradient is final for the step, `markReady` it; once
/// every parameter of a bucket is ready, its all-reduce (sum) starts on a background queue,
/// buckets always in index order so every replica issues the same collectives in the same
/// order. `finish()` waits for all of them, applies the `Reduction` and reports how long it
/// waited: the communication the backward did not hide.
///
/// Loss scaling must match the reduction: with `.mean` (PyTorch DDP), each replica's
/// cross-entropy denominator is its own target count (`accumulate · micro-batch · L` under the
/// data contract); with `.sum`, every replica passes the step's global target count.
///
/// Every rank of `group` must register the same parameter sizes and call `finish()` for each
/// step. Not thread-safe: call from the thread that runs the backward.
public final class GradientBuckets {
    /// What the replicas' gradients become: their mean (divided by the group size) or their sum.
    public enum Reduction: Sendable { case mean, sum }

    public let group: any Communicator
    public let reduction: Reduction
    /// `bucketParameters[b]`: parameter indices of bucket `b` (descending: reverse forward order).
    public let bucketParameters: [[Int]]
    /// Element range of each parameter in the flat buffer.
    private let parameterRanges: [Range<Int>]
    /// Element range of each bucket in the flat buffer.
    private let bucketRanges: [Range<Int>]
    private let bucketOfParameter: [Int]
    private let storage: UnsafeMutableBufferPointer<Float>      // [total parameters]
    private var ready: [Bool]
    private var missing: [Int]
    private var nextToStart = 0
    private var handles: [CollectiveHandle] = []
    private let queue: CollectiveQueue?
    /// Σ of the buckets' all-reduce durations in the current step (written by the queue thread).
    private let communication = CommunicationTotal()
    /// Total time the buckets' all-reduces ran during the last finished step, hidden or not
    /// (`finish()` returns the exposed part).
    public private(set) var lastCommunicationTime: Duration = .zero

    /// - Parameters:
    ///   - parameterSizes: element counts of the parameters, in forward order.
    ///   - bucketBytes: bucket size (`--bucket-mb` × 2²⁰; default 25 MiB).
    ///   - group: the data-parallel group.
    ///   - reduction: `.mean` (default) or `.sum` over the replicas.
    public init(parameterSizes: [Int], bucketBytes: Int = 25 << 20, group: any Communicator,
                reduction: Reduction = .mean) {
        precondition(parameterSizes.allSatisfy { $0 >= 0 } && bucketBytes > 0, "bad bucket configuration")
        self.group = group
        self.reduction = reduction
        var ranges = [Range<Int>](repeating: 0..<0, count: parameterSizes.count)
        var buckets: [[Int]] = [], current: [Int] = [], currentBytes = 0, offset = 0
        for index in parameterSizes.indices.reversed() {
            ranges[index] = offset..<(offset + parameterSizes[index])
            offset += parameterSizes[index]
            current.append(index)
            currentBytes += parameterSizes[index] * MemoryLayout<Float>.stride
            if currentBytes >= bucketBytes { buckets.append(current); current = []; currentBytes = 0 }
        }
        if !current.isEmpty { buckets.append(current) }
        parameterRanges = ranges
        bucketParameters = buckets
        bucketRanges = buckets.map { ranges[$0.first!].lowerBound..<ranges[$0.last!].upperBound }
        var owner = [Int](repeating: 0, count: parameterSizes.count)
        for (b, members) in buckets.enumerated() { for p in members { owner[p] = b } }
        bucketOfParameter = owner
        storage = .allocate(capacity: max(offset, 1))
        storage.initialize(repeating: 0)
        ready = [Bool](repeating: false, count: parameterSizes.count)
        missing = buckets.map(\.count)
        queue = group.size > 1 ? CollectiveQueue() : nil
    }

    deinit {
        for handle in handles { try? handle.wait() }
        queue?.shutdown()
        storage.deallocate()
    }

    /// The gradient buffer of parameter `index` (`[size]` f32), to accumulate into.
    public func gradient(of index: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(rebasing: storage[parameterRanges[index]])
    }

    /// Zeroes every gradient (once per optimizer step, before the first micro-batch).
    public func zeroGradients() {
        precondition(handles.isEmpty, "zeroGradients during a step: call finish() first")
        storage.update(repeating: 0)
    }

    /// Marks parameter `index`'s gradient final for this step (after the last micro-batch's
    /// backward has added to it); starts every bucket that is now complete, in bucket order.
    public func markReady(_ index: Int) {
        precondition(!ready[index], "parameter \(index) marked ready twice in one step")
        ready[index] = true
        missing[bucketOfParameter[index]] -= 1
        while nextToStart < bucketRanges.count && missing[nextToStart] == 0 {
            if let queue { handles.append(start(bucket: nextToStart, on: queue)) }
            nextToStart += 1
        }
    }

    /// Submits bucket `index`'s all-reduce (sum) to the queue, timing it.
    private func start(bucket index: Int, on queue: CollectiveQueue) -> CollectiveHandle {
        let bucket = SendableBuffer(UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: storage[bucketRanges[index]])))
        let group = self.group, communication = self.communication
        return queue.submit {
            let clock = ContinuousClock()
            let start = clock.now
            defer { let elapsed = clock.now - start; communication.add(elapsed) }
            try group.allReduce(bucket.value, type: .float32, op: .sum)
        }
    }

    /// Waits for every bucket's all-reduce, divides the gradients by the group size (`.mean`), and
    /// resets the ready marks for the next step. Returns the time spent waiting (exposed communication).
    /// - Throws: the first `CollectiveError` of any bucket (every bucket is still waited for).
    public func finish() throws -> Duration {
        precondition(nextToStart == bucketRanges.count, "finish() before every parameter was marked ready")
        let clock = ContinuousClock()
        let start = clock.now
        var failure: (any Error)?
        for handle in handles {
            do { try handle.wait() } catch { if failure == nil { failure = error } }
        }
        let exposed = clock.now - start
        lastCommunicationTime = communication.take()
        handles = []
        nextToStart = 0
        ready = [Bool](repeating: false, count: ready.count)
        missing = bucketParameters.map(\.count)
        if let failure { throw failure }
        if group.size > 1 && reduction == .mean {
            let inverse = 1 / Float(group.size)
            for i in storage.indices { storage[i] *= inverse }
        }
        return exposed
    }
}

/// A raw buffer handed to the collective queue's thread; `GradientBuckets` keeps the storage
/// alive and untouched until `finish()` has waited for it.
private struct SendableBuffer: @unchecked Sendable {
    let value: UnsafeMutableRawBufferPointer
    init(_ value: UnsafeMutableRawBufferPointer) { self.value = value }
}

/// A duration summed from the queue thread and read (and reset) by the backward thread.
private final class CommunicationTotal: Sendable {
    private let total = Mutex<Duration>(.zero)
    func add(_ elapsed: Duration) { total.withLock { $0 += elapsed } }
    func take() -> Duration { total.withLock { value in defer { value = .zero }; return value } }
}
