import Foundation
import CoreMetrics
import Metrics
import Prometheus
import TridentEngine

/// The server's Prometheus metrics, recorded through swift-metrics into a registry of its own
/// (no global metrics system, so several servers can live in one process, as in tests), and
/// rendered as Prometheus text for `GET /metrics`. Thread-safe.
public final class ServerMetrics: @unchecked Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let lock = NSLock()
    private var requestCounters: [String: CoreMetrics.Counter] = [:]
    private var rankGauges: [String: CoreMetrics.Gauge] = [:]
    /// Per open ticket: when it was submitted and when its last token came.
    private var timing: [Int: (submitted: DispatchTime, last: DispatchTime?)] = [:]

    private let promptTokens: CoreMetrics.Counter
    private let cachedPromptTokens: CoreMetrics.Counter
    private let generatedTokens: CoreMetrics.Counter
    private let timeToFirstToken: CoreMetrics.Timer
    private let interTokenLatency: CoreMetrics.Timer
    private let queueDepth: CoreMetrics.Gauge
    private let runningSequences: CoreMetrics.Gauge
    private let kvBlocksUsed: CoreMetrics.Gauge
    private let kvBlocksTotal: CoreMetrics.Gauge
    private let cancelledRequests: CoreMetrics.Counter

    public init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = [
            "trident_time_to_first_token_seconds": [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000]
                .map { Duration.milliseconds($0) },
            "trident_inter_token_latency_seconds": [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500]
                .map { Duration.microseconds(Int64($0 * 1000)) },
        ]
        self.factory = factory
        promptTokens = CoreMetrics.Counter(label: "trident_prompt_tokens_total", factory: factory)
        cachedPromptTokens = CoreMetrics.Counter(label: "trident_prompt_tokens_cached_total", factory: factory)
        generatedTokens = CoreMetrics.Counter(label: "trident_generation_tokens_total", factory: factory)
        timeToFirstToken = CoreMetrics.Timer(label: "trident_time_to_first_token_seconds", factory: factory)
        interTokenLatency = CoreMetrics.Timer(label: "trident_inter_token_latency_seconds", factory: factory)
        queueDepth = CoreMetrics.Gauge(label: "trident_queue_depth", factory: factory)
        runningSequences = CoreMetrics.Gauge(label: "trident_running_sequences", factory: factory)
        kvBlocksUsed = CoreMetrics.Gauge(label: "trident_kv_cache_blocks_used", factory: factory)
        kvBlocksTotal = CoreMetrics.Gauge(label: "trident_kv_cache_blocks_total", factory: factory)
        cancelledRequests = CoreMetrics.Counter(label: "trident_cancelled_requests_total", factory: factory)
    }

    /// Counts one HTTP request to `endpoint` answered with `status`.
    public func request(endpoint: String, status: Int) {
        let key = "\(endpoint) \(status)"
        let counter = lock.withLock {
            if let c = requestCounters[key] { return c }
            let c = CoreMetrics.Counter(label: "trident_requests_total",
                            dimensions: [("endpoint", endpoint), ("status", String(status))], factory: factory)
            requestCounters[key] = c
            return c
        }
        counter.increment()
    }

    func submitted(ticket: Int, at time: DispatchTime) {
        lock.withLock { timing[ticket] = (time, nil) }
    }

    /// A generated token for `ticket`: the first records the time to first token, later ones
    /// the inter-token latency.
    func token(ticket: Int, at time: DispatchTime) {
        let previous = lock.withLock { () -> (DispatchTime, Bool)? in
            guard let t = timing[ticket] else { return nil }
            timing[ticket]?.last = time
            return (t.last ?? t.submitted, t.last == nil)
        }
        guard let (since, first) = previous else { return }
        let nanos = Int64(time.uptimeNanoseconds - since.uptimeNanoseconds)
        (first ? timeToFirstToken : interTokenLatency).recordNanoseconds(nanos)
    }

    /// - Parameter cached: prompt tokens found in the KV cache (not run again).
    func finished(ticket: Int, promptTokens prompt: Int, cached: Int = 0, generated: Int) {
        _ = lock.withLock { timing.removeValue(forKey: ticket) }
        promptTokens.increment(by: Int64(prompt))
        cachedPromptTokens.increment(by: Int64(cached))
        generatedTokens.increment(by: Int64(generated))
    }

    func cancelled(ticket: Int) {
        _ = lock.withLock { timing.removeValue(forKey: ticket) }
        cancelledRequests.increment()
    }

    func occupancy(queued: Int, running: Int, kvBlocksUsed used: Int?, kvBlocksTotal total: Int?) {
        queueDepth.record(queued)
        runningSequences.record(running)
        if let used, let total {
            kvBlocksUsed.record(used)
            kvBlocksTotal.record(total)
        }
    }

    /// Per-rank compute and communication seconds since loading.
    func record(ranks: [RankStatistics]) {
        for rank in ranks {
            gauge("trident_rank_compute_seconds", rank: rank.rank).record(rank.computeSeconds)
            gauge("trident_rank_communication_seconds", rank: rank.rank).record(rank.communicationSeconds)
        }
    }

    private func gauge(_ name: String, rank: Int) -> CoreMetrics.Gauge {
        lock.withLock {
            let key = "\(name) \(rank)"
            if let g = rankGauges[key] { return g }
            let g = CoreMetrics.Gauge(label: name, dimensions: [("rank", String(rank))], factory: factory)
            rankGauges[key] = g
            return g
        }
    }

    /// Prometheus text exposition of every metric.
    public func render() -> String { registry.emitToString() }
}
