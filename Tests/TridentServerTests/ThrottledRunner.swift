import Foundation
import TridentEngine
import TridentModel

/// A `ModelRunner` that forwards to a real one, but can wait before each step: a fixed delay
/// (so streams last long enough to disconnect from them) and a gate tests open.
final class ThrottledRunner: ModelRunner, @unchecked Sendable {
    let base: any ModelRunner
    let delay: Double
    private let gate: Gate?

    /// A one-way latch: steps wait until it is opened.
    final class Gate: @unchecked Sendable {
        private let condition = NSCondition()
        private var open = false
        private(set) var waiters = 0

        func wait() {
            condition.lock()
            waiters += 1
            while !open { condition.wait() }
            condition.unlock()
        }

        func openUp() { condition.withLock { open = true; condition.broadcast() } }
        var waiting: Int { condition.withLock { waiters } }
    }

    init(_ base: any ModelRunner, delay: Double = 0, gate: Gate? = nil) {
        self.base = base
        self.delay = delay
        self.gate = gate
    }

    var configuration: ModelConfiguration { base.configuration }
    var capacity: Int { base.capacity }
    var slotCount: Int { base.slotCount }
    var pipelineStages: Int { base.pipelineStages }
    var maxInFlight: Int { base.maxInFlight }
    var overlapGroups: [[Int]] { base.overlapGroups }

    func submit(_ chunks: [SequenceChunk], microBatches: Int?) throws {
        gate?.wait()
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        try base.submit(chunks, microBatches: microBatches)
    }

    func collect() throws -> [[Float]] { try base.collect() }
    func rankStatistics() throws -> [RankStatistics] { try base.rankStatistics() }
    func resetStatistics() throws { try base.resetStatistics() }
    func shutdown() throws { try base.shutdown() }
}
