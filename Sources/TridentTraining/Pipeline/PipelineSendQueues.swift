import TridentCollectives
import TridentModel

/// Frames sent in the background, one ordered queue per peer, for a pipeline group whose sends
/// wait for the matching receive (`sendsAreBuffered == false`: MPI's rendezvous protocol for
/// large messages). Without it two neighbours sending to each other at once (1F1B's steady
/// state: activations forward, gradients back) would each block in its send and deadlock; the
/// schedule validator proves every program runs with buffered sends, which this restores.
final class PipelineSendQueues {
    private var queues: [Int: CollectiveQueue] = [:]
    private var pending: [CollectiveHandle] = []

    /// Queues `frame` to `peer` of `group` after the frames queued to it before.
    /// - Throws: the error of an earlier send that has finished.
    func send(_ frame: ActivationFrame, over group: any Communicator, to peer: Int, tag: Int) throws {
        try reap()
        let queue: CollectiveQueue
        if let existing = queues[peer] { queue = existing } else {
            queue = CollectiveQueue()
            queues[peer] = queue
        }
        pending.append(queue.submit { try frame.send(over: group, to: peer, tag: tag) })
    }

    /// Blocks until every queued frame is sent (each send has the communicator's deadline).
    /// - Throws: the first failed send's error.
    func waitAll() throws {
        let all = pending
        pending = []
        _ = try all.waitAll()
    }

    /// Drops finished sends, rethrowing the first one's error.
    private func reap() throws {
        var finished: [CollectiveHandle] = [], running: [CollectiveHandle] = []
        for handle in pending { if handle.isFinished { finished.append(handle) } else { running.append(handle) } }
        pending = running
        _ = try finished.waitAll()
    }

    deinit {
        for queue in queues.values { queue.shutdown() }
    }
}
