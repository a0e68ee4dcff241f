import Foundation
import Synchronization
import TridentCollectives

/// Megatron-style overlap of the tensor group's all-reduces with computation (`train
/// --tp-comm-overlap`; for inference prefill, `TRIDENT_TP_COMM_OVERLAP=1`):
/// - backward of a column-parallel layer: the all-reduce of its input gradient runs while the
///   layer's weight gradient is computed (`allReduce(_:group:whileRunning:)`);
/// - forward of a row-parallel layer: the rows are cut in two, and the first half's all-reduce
///   runs while the second half is multiplied (`computeAndReduceInHalves`).
///
/// The all-reduces run on one background thread per rank (a `CollectiveQueue`), in the order
/// they are issued, so every rank of the group still issues the same collectives in the same
/// order. The caller must not use the group for anything else until the call returns.
/// It also measures what it hides: per call, the seconds the background all-reduces took minus
/// the seconds the caller then still waited for them.
public final class TensorParallelOverlap: @unchecked Sendable {
    private let queue = CollectiveQueue()
    private let communicated = Atomic<UInt64>(0)
    private let hidden = Atomic<UInt64>(0)

    public init() {}

    /// Whether inference contexts overlap their row-parallel all-reduces: the environment sets
    /// `TRIDENT_TP_COMM_OVERLAP=1` (launched ranks inherit it).
    public static let requestedForInference = ProcessInfo.processInfo.environment["TRIDENT_TP_COMM_OVERLAP"] == "1"

    deinit { queue.shutdown() }

    /// Seconds the overlapped all-reduces ran, in the background.
    public var communicationSeconds: Double { Double(communicated.load(ordering: .relaxed)) / 1e9 }

    /// Seconds of `communicationSeconds` the caller did not wait for (it computed meanwhile):
    /// per call, the background seconds minus the caller's wait, when positive.
    public var hiddenSeconds: Double { Double(hidden.load(ordering: .relaxed)) / 1e9 }

    /// All-reduces (sum) `buffer` over `group` in the background while `work` runs on the
    /// calling thread; returns when both are done. Every rank of `group` must call this, in
    /// the same order as its other collectives on `group`.
    /// - Parameter buffer: must not be read or written by `work`.
    /// - Throws: the all-reduce's error (after `work` finished), or `work`'s.
    public func allReduce(_ buffer: UnsafeMutableBufferPointer<Float>, group: any Communicator,
                          whileRunning work: () throws -> Void) throws {
        let running = start(buffer, group: group)
        var failure: (any Error)?
        do { try work() } catch { failure = error }
        try finish([running])
        if let failure { throw failure }
    }

    /// Computes `output` `[rows, columns]` in two halves of rows with `compute(rows range)`,
    /// all-reducing (sum) each half over `group` as soon as it is computed, so that the first
    /// half's all-reduce runs while the second half is computed. Every rank of `group` must call
    /// this with the same `rows`, in the same order as its other collectives on `group`.
    public func computeAndReduceInHalves(rows: Int, columns: Int, output: UnsafeMutableBufferPointer<Float>,
                                         group: any Communicator, compute: (Range<Int>) -> Void) throws {
        precondition(output.count == rows * columns)
        let middle = rows / 2
        var running: [Running] = []
        for half in [0..<middle, middle..<rows] where !half.isEmpty {
            compute(half)
            let slice = UnsafeMutableBufferPointer(rebasing: output[(half.lowerBound * columns)..<(half.upperBound * columns)])
            running.append(start(slice, group: group))
        }
        try finish(running)
    }

    /// An all-reduce queued on the background thread, and the nanoseconds it ran there.
    private struct Running {
        let handle: CollectiveHandle
        let nanoseconds: BackgroundTime
    }

    /// Queues the all-reduce of `buffer`, timing it on the background thread.
    private func start(_ buffer: UnsafeMutableBufferPointer<Float>, group: any Communicator) -> Running {
        let work = BackgroundReduce(buffer: UnsafeMutableRawBufferPointer(buffer), group: group)
        let time = BackgroundTime()
        let handle = queue.submit {
            let began = DispatchTime.now().uptimeNanoseconds
            defer { time.value.store(DispatchTime.now().uptimeNanoseconds &- began, ordering: .releasing) }
            try work.group.allReduce(work.buffer, type: .float32, op: .sum)
        }
        return Running(handle: handle, nanoseconds: time)
    }

    /// Waits for every all-reduce (all of them, even after an error: their buffers stay in use
    /// until then), adds what ran beyond the wait to the hidden time; rethrows the first error.
    private func finish(_ running: [Running]) throws {
        let began = DispatchTime.now().uptimeNanoseconds
        var failure: (any Error)?
        for item in running {
            do { try item.handle.wait() } catch { if failure == nil { failure = error } }
        }
        let waited = DispatchTime.now().uptimeNanoseconds &- began
        let ran = running.reduce(UInt64(0)) { $0 + $1.nanoseconds.value.load(ordering: .acquiring) }
        communicated.add(ran, ordering: .relaxed)
        if ran > waited { hidden.add(ran - waited, ordering: .relaxed) }
        if let failure { throw failure }
    }
}

/// Nanoseconds one background all-reduce ran (written by the background thread before its
/// handle finishes).
private final class BackgroundTime: Sendable {
    let value = Atomic<UInt64>(0)
}

/// An all-reduce handed to the background thread; the caller keeps the buffer valid until the
/// wait and uses the group for nothing else meanwhile.
private struct BackgroundReduce: @unchecked Sendable {
    let buffer: UnsafeMutableRawBufferPointer
    let group: any Communicator
}
