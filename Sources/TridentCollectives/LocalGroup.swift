import Foundation
import Synchronization

/// What one rank of a `LocalGroup` publishes for the collective it is entering.
struct LocalSlot {
    var operation: LocalOperation = .barrier
    var input: UnsafeRawPointer?
    var byteCount = 0
    /// Operation-specific argument that must agree across ranks (root, type/op code) or, for split, the color.
    var argument = 0
    /// Split only: the ordering key.
    var key = 0
    /// Split only: the group created by the leader of this rank's color.
    var newGroup: LocalGroup?
}

enum LocalOperation: Int {
    case barrier, allReduce, allGather, reduceScatter, broadcast, split

    var name: String {
        switch self {
        case .barrier: "barrier"
        case .allReduce: "allReduce"
        case .allGather: "allGather"
        case .reduceScatter: "reduceScatter"
        case .broadcast: "broadcast"
        case .split: "split"
        }
    }
}

/// State shared by the threads of one local group: published slots, a barrier with
/// deadlines that names missing ranks, a group-wide failure flag, and p2p mailboxes.
///
/// Slots are written by their owner before it enters a barrier and read by the others only
/// between two barriers, so the barrier's acquire/release ordering protects them.
final class LocalGroup: @unchecked Sendable {
    let size: Int
    let name: String
    let options: CommunicatorOptions
    let slots: UnsafeMutablePointer<LocalSlot>
    /// `entered[r]`: number of barriers rank `r` has entered.
    private let entered: UnsafeMutablePointer<Atomic<Int>>
    private let sleepers = Atomic<Int>(0)
    private let wake = NSCondition()
    private let failed = Atomic<Bool>(false)
    private let failure = Mutex<CollectiveError?>(nil)
    let mailbox: LocalMailbox

    init(size: Int, name: String, options: CommunicatorOptions) {
        precondition(size > 0, "group size must be positive, got \(size)")
        self.size = size
        self.name = name
        self.options = options
        slots = .allocate(capacity: size)
        slots.initialize(repeating: LocalSlot(), count: size)
        entered = .allocate(capacity: size)
        for r in 0..<size { (entered + r).initialize(to: Atomic<Int>(0)) }
        mailbox = LocalMailbox(size: size)
    }

    deinit {
        slots.deinitialize(count: size)
        slots.deallocate()
        entered.deinitialize(count: size)
        entered.deallocate()
    }

    /// The first error any rank of the group reported.
    var firstFailure: CollectiveError? { failure.withLock { $0 } }

    /// Marks the whole group failed so that waiting and later ranks fail at once.
    func fail(_ error: CollectiveError) {
        failure.withLock { if $0 == nil { $0 = error } }
        failed.store(true, ordering: .sequentiallyConsistent)
        wake.lock(); wake.broadcast(); wake.unlock()
        mailbox.wakeAll()
    }

    /// The error a rank reports when another rank of the group failed first.
    func peerFailure(operation: String, rank: Int) -> CollectiveError? {
        guard failed.load(ordering: .acquiring), let first = firstFailure else { return nil }
        return CollectiveError(.peerFailed, operation: operation, rank: rank, peer: first.rank, group: name,
                               detail: "failed first: \(first)")
    }

    /// Enters barrier number `epoch` and waits until every rank has entered it.
    /// Spins briefly, then yields, then sleeps; throws `.timeout` naming the missing ranks.
    func arriveAndWait(rank: Int, epoch: Int, operation: String, started: ContinuousClock.Instant) throws {
        entered[rank].store(epoch, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            wake.lock(); wake.broadcast(); wake.unlock()
        }
        // Spin briefly (sub-microsecond hand-offs when ranks have cores), then yield, then sleep:
        // with more ranks than cores, long spinning only steals time from the ranks we wait for.
        for spin in 0..<384 {
            if allEntered(epoch) { return }
            if spin >= 256 { sched_yield() }
        }
        let deadline = started + options.operationTimeout
        wake.lock()
        sleepers.add(1, ordering: .sequentiallyConsistent)
        defer { sleepers.subtract(1, ordering: .sequentiallyConsistent); wake.unlock() }
        while !allEntered(epoch) {
            if let error = peerFailure(operation: operation, rank: rank) { throw error }
            let now = ContinuousClock.now
            if now >= deadline {
                let missing = (0..<size).filter { entered[$0].load(ordering: .acquiring) < epoch }
                let error = CollectiveError(
                    .timeout, operation: operation, rank: rank, peer: missing.first, group: name,
                    detail: "rank(s) \(missing) did not reach \(operation) (collective #\(epoch)) within the operation timeout",
                    elapsed: now - started)
                wake.unlock()
                fail(error)
                wake.lock()
                throw error
            }
            let remaining = min(deadline - now, .milliseconds(100))
            _ = wake.wait(until: Date(timeIntervalSinceNow: remaining.seconds))
        }
    }

    private func allEntered(_ epoch: Int) -> Bool {
        for r in 0..<size where entered[r].load(ordering: .acquiring) < epoch { return false }
        return true
    }
}

extension Duration {
    /// This duration in seconds as a Double.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}
