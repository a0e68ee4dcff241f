import Foundation
import Logging
import TridentEngine

/// What a request's stream receives from the engine.
public enum EngineEvent: Sendable {
    /// A sampled token and/or newly visible text.
    case output(SequenceOutput)
    /// The request finished; the stream ends after this.
    case finished(GenerationResult)
    /// The engine failed (a dead rank, a runner error) or shut down before the request finished.
    case failed(String)
}

/// Where the engine stands, as `/health` reports it.
public enum EngineState: Sendable, Equatable {
    /// The model is loading: requests get 503.
    case loading
    case ready
    /// SIGTERM: running requests finish (bounded), new ones get 503.
    case draining
    case stopped
    /// A rank died or the runner failed: every request gets 503.
    case failed(String)
}

/// Why a request was not queued.
public enum EngineRejection: Error, Equatable {
    case unavailable(EngineState)
    case queueFull(limit: Int)
    case invalid(String)
}

/// The bridge between the HTTP handlers (any thread) and the scheduler, which only the
/// driver thread touches: handlers `submit` requests and get an `AsyncStream` of events; the
/// driver thread sits in `run`, moving submitted requests into the scheduler, stepping it and
/// delivering its events. Thread-safe.
public final class EngineLoop: @unchecked Sendable {
    private let condition = NSCondition()
    private var state = EngineState.loading
    private var limits: Limits?
    private var inbox: [Pending] = []
    private var cancels: [Int] = []
    /// Requests submitted and not yet in a slot (inbox plus the scheduler's queue).
    private var queued = 0
    private var running = 0
    private var nextTicket = 0
    private var drainDeadline: DispatchTime?
    public let maxQueue: Int
    public let metrics: ServerMetrics
    let logger: Logger

    /// What the engine accepts, known once the model is loaded.
    public struct Limits: Sendable {
        /// Positions per sequence (prompt plus generated tokens stay below it).
        public var capacity: Int
        public var budget: KVBlockBudget?
    }

    private struct Pending {
        let ticket: Int
        /// The request's index in its group (`submit`'s order).
        let index: Int
        let request: GenerationRequest
        let sink: EventSink
    }

    public init(maxQueue: Int, metrics: ServerMetrics, logger: Logger) {
        self.maxQueue = maxQueue
        self.metrics = metrics
        self.logger = logger
    }

    public var currentState: EngineState { condition.withLock { state } }
    public var currentLimits: Limits? { condition.withLock { limits } }

    /// Queues `requests` together (all or none), e.g. the `n` choices of one API request.
    /// - Returns: the requests' tickets (for `cancel`) and one stream of `(request index, event)`
    ///   that ends when every request has finished or failed. Dropping the stream cancels them.
    /// - Throws: `EngineRejection` when the engine is not ready, the queue is full or a request
    ///   does not fit the context or the KV budget.
    public func submit(_ requests: [GenerationRequest]) throws(EngineRejection) -> (tickets: [Int], events: AsyncStream<(Int, EngineEvent)>) {
        condition.lock()
        defer { condition.unlock() }
        guard state == .ready, let limits else { throw .unavailable(state) }
        guard queued + requests.count <= maxQueue else { throw .queueFull(limit: maxQueue) }
        for request in requests { try Self.check(request, limits) }
        let now = DispatchTime.now()
        let (stream, continuation) = AsyncStream<(Int, EngineEvent)>.makeStream()
        let sink = EventSink(continuation, count: requests.count)
        let tickets = Array(nextTicket ..< nextTicket + requests.count)
        nextTicket += requests.count
        for (index, request) in requests.enumerated() {
            inbox.append(Pending(ticket: tickets[index], index: index, request: request, sink: sink))
            metrics.submitted(ticket: tickets[index], at: now)
        }
        continuation.onTermination = { [weak self] reason in
            if case .cancelled = reason { for ticket in tickets { self?.cancel(ticket) } }
        }
        queued += requests.count
        condition.signal()
        return (tickets, stream)
    }

    private static func check(_ request: GenerationRequest, _ limits: Limits) throws(EngineRejection) {
        let prompt = request.promptTokens.count
        guard prompt > 0 else { throw .invalid("the prompt is empty") }
        guard prompt < limits.capacity else {
            throw .invalid("the prompt has \(prompt) tokens but the context holds \(limits.capacity)")
        }
        if let budget = limits.budget {
            let blocks = budget.blocks(forPositions: min(limits.capacity, prompt + request.maxTokens))
            guard blocks <= budget.totalBlocks else {
                throw .invalid(SchedulerError.exceedsBudget(blocks: blocks, total: budget.totalBlocks).description)
            }
        }
    }

    /// Stops generating for `ticket` and frees its slot and KV blocks (a client that left).
    public func cancel(_ ticket: Int) {
        condition.withLock {
            cancels.append(ticket)
            condition.signal()
        }
    }

    /// Stops accepting requests; `run` returns once the running ones finish, or at `timeout`,
    /// failing what is left.
    public func drain(timeout: Duration) {
        condition.withLock {
            if state == .ready || state == .loading { state = .draining }
            let nanos = UInt64(timeout.components.seconds) * 1_000_000_000 + UInt64(timeout.components.attoseconds / 1_000_000_000)
            drainDeadline = DispatchTime.now() + .nanoseconds(Int(min(nanos, UInt64(Int.max))))
            condition.signal()
        }
    }

    /// Marks the engine failed before it ran (e.g. the model did not load).
    public func fail(_ message: String) {
        condition.withLock {
            state = .failed(message)
            condition.signal()
        }
    }

    // MARK: - Driver thread

    /// The driver thread's loop: makes the engine ready, then steps `scheduler` while there is
    /// work and waits for requests otherwise, until `drain` (or a runner error, which fails
    /// every open request and is rethrown).
    /// - Parameter statistics: every rank's statistics (a collective; called only while idle).
    public func run(_ scheduler: Scheduler, statistics: (() throws -> [RankStatistics])? = nil) throws {
        var streams: [Int: (sink: EventSink, index: Int)] = [:]  // by ticket
        var tickets: [Int: Int] = [:]  // scheduler id -> ticket
        var ids: [Int: Int] = [:]  // ticket -> scheduler id
        condition.withLock {
            limits = Limits(capacity: scheduler.runner.capacity, budget: scheduler.budget)
            if state == .loading { state = .ready }
        }
        logger.info("engine ready", metadata: ["capacity": "\(scheduler.runner.capacity)",
                                               "slots": "\(scheduler.runner.slotCount)"])
        var lastStatistics = DispatchTime.now()
        var wentIdle = true
        do {
            while true {
                guard let work = waitForWork(busy: scheduler.hasWork) else { break }
                for pending in work.submitted {
                    do {
                        let id = try scheduler.enqueue(pending.request)
                        tickets[id] = pending.ticket
                        ids[pending.ticket] = id
                        streams[pending.ticket] = (pending.sink, pending.index)
                    } catch {
                        pending.sink.end(pending.index, with: .failed("\(error)"))
                    }
                }
                for ticket in work.cancelled {
                    if let id = ids.removeValue(forKey: ticket) {
                        scheduler.cancel(id)
                        tickets[id] = nil
                        metrics.cancelled(ticket: ticket)
                    }
                    if let stream = streams.removeValue(forKey: ticket) { stream.sink.end(stream.index, with: nil) }
                }
                if work.drainExpired { break }
                if scheduler.hasWork {
                    // Delivered before the next step runs, so each token streams as it is sampled.
                    try scheduler.step { events in deliver(events, tickets: &tickets, ids: &ids, streams: &streams) }
                    wentIdle = !scheduler.hasWork
                }
                // Statistics (a collective) only between steps with nothing outstanding: as soon
                // as the engine goes idle, then at every idle tick.
                if !scheduler.hasWork, let statistics,
                   wentIdle || DispatchTime.now().uptimeNanoseconds - lastStatistics.uptimeNanoseconds > 1_000_000_000 {
                    metrics.record(ranks: try statistics())
                    lastStatistics = DispatchTime.now()
                    wentIdle = false
                }
                publish(scheduler)
            }
        } catch {
            logger.error("engine failed", metadata: ["error": "\(error)"])
            condition.withLock { state = .failed("\(error)") }
            for stream in streams.values { stream.sink.end(stream.index, with: .failed("the engine failed: \(error)")) }
            failInbox("the engine failed: \(error)")
            throw error
        }
        for stream in streams.values {
            stream.sink.end(stream.index, with: .failed("the server shut down before the request finished"))
        }
        failInbox("the server is shutting down")
        condition.withLock { if state == .draining || state == .ready { state = .stopped } }
    }

    private struct Work {
        var submitted: [Pending]
        var cancelled: [Int]
        var drainExpired: Bool
    }

    /// Longest idle wait between two statistics collectives (seconds).
    static let idleTick = 10.0

    /// Waits until there is something to do (or `idleTick`). - Returns: nil when draining and idle.
    private func waitForWork(busy: Bool) -> Work? {
        condition.lock()
        defer { condition.unlock() }
        // Idle: wake up now and then, so that `run` refreshes the statistics, a collective
        // that also keeps the workers' wait for their next command within its deadline.
        while !busy && inbox.isEmpty && cancels.isEmpty && state == .ready {
            if !condition.wait(until: Date().addingTimeInterval(Self.idleTick)) { break }
        }
        if !busy && inbox.isEmpty && state != .ready { return nil }
        let expired = drainDeadline.map { DispatchTime.now() >= $0 } ?? false
        defer { inbox = []; cancels = [] }
        return Work(submitted: inbox, cancelled: cancels, drainExpired: expired)
    }

    private func failInbox(_ message: String) {
        let left = condition.withLock { () -> [Pending] in defer { inbox = [] }; return inbox }
        for pending in left { pending.sink.end(pending.index, with: .failed(message)) }
    }

    private func deliver(_ events: [SchedulerEvent], tickets: inout [Int: Int], ids: inout [Int: Int],
                         streams: inout [Int: (sink: EventSink, index: Int)]) {
        let now = DispatchTime.now()
        for event in events {
            switch event {
            case let .output(id, output):
                guard let ticket = tickets[id] else { continue }
                if output.token != nil { metrics.token(ticket: ticket, at: now) }
                if let stream = streams[ticket] { stream.sink.yield(stream.index, .output(output)) }
            case let .finished(id, result):
                guard let ticket = tickets.removeValue(forKey: id) else { continue }
                ids[ticket] = nil
                metrics.finished(ticket: ticket, promptTokens: result.promptTokens.count, cached: result.cachedPromptTokens,
                                 generated: result.tokens.count)
                if let stream = streams.removeValue(forKey: ticket) { stream.sink.end(stream.index, with: .finished(result)) }
            }
        }
    }

    /// Updates the queue and occupancy counts (for admission and the gauges).
    private func publish(_ scheduler: Scheduler) {
        condition.withLock {
            queued = inbox.count + scheduler.queueDepth
            running = scheduler.runningCount
        }
        metrics.occupancy(queued: scheduler.queueDepth, running: scheduler.runningCount,
                          kvBlocksUsed: scheduler.budget?.usedBlocks, kvBlocksTotal: scheduler.budget?.totalBlocks)
    }
}

/// The merged event stream of one `submit` group: finishes when its last request ends.
final class EventSink: @unchecked Sendable {
    private let continuation: AsyncStream<(Int, EngineEvent)>.Continuation
    private let lock = NSLock()
    private var open: Int

    init(_ continuation: AsyncStream<(Int, EngineEvent)>.Continuation, count: Int) {
        self.continuation = continuation
        open = count
    }

    func yield(_ index: Int, _ event: EngineEvent) { continuation.yield((index, event)) }

    /// Request `index` ended (with a last event, if any); the stream ends with the last request.
    func end(_ index: Int, with event: EngineEvent?) {
        if let event { continuation.yield((index, event)) }
        let last = lock.withLock { () -> Bool in
            open -= 1
            return open == 0
        }
        if last { continuation.finish() }
    }
}
