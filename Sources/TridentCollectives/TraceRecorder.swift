import Synchronization

/// What a timeline span was doing; its colour in `trident trace`.
public enum TraceKind: String, Sendable, CaseIterable, Codable {
    case forward, backward
    /// Forward and backward of a micro-batch in one call (no pipeline).
    case compute
    case send, receive
    case allReduce = "all-reduce"
    case optimizer, idle
    /// Inference: a forward step whose chunks include a prompt of several tokens.
    case prefill
    /// Inference: a forward step of one new token per sequence.
    case decode
    /// Inference: one transformer block (or the LM head) of a pass.
    case block
    /// Collectives other than all-reduce: broadcast, all-gather, reduce-scatter, barrier, split.
    case collective
}

/// One span of a rank's timeline: `[start, start + duration)` nanoseconds after the recorder's origin.
public struct TraceSpan: Sendable, Equatable, Codable {
    public var name: String
    public var kind: TraceKind
    /// The row of the rank's timeline (`TraceRecorder.mainRow`, `.asyncRow`).
    public var row: Int
    public var start: Int64
    public var duration: Int64
    public var microBatch: Int?
    /// Bytes a communication span moved (this rank's buffer).
    public var bytes: Int?

    public init(name: String, kind: TraceKind, row: Int, start: Int64, duration: Int64, microBatch: Int? = nil,
                bytes: Int? = nil) {
        self.name = name
        self.kind = kind
        self.row = row
        self.start = start
        self.duration = duration
        self.microBatch = microBatch
        self.bytes = bytes
    }

    public var end: Int64 { start + duration }
}

/// Records one rank's timeline spans on a monotonic clock relative to `origin` (a start every
/// rank shares, e.g. taken right after a barrier). Thread-safe: the main thread records on
/// `mainRow`, the collective queue on `asyncRow`. A training step's spans of one row do not
/// nest; an inference step's do, strictly (step ⊃ micro-batch ⊃ block ⊃ collective, see
/// `TracingCommunicator`). The main row's gaps are filled with idle spans by `fillIdle`. Pass
/// the recorder to whoever records; there is no global recorder.
public final class TraceRecorder: Sendable {
    /// The row of the thread that runs the step: compute, pipeline sends/receives, waits, optimizer.
    public static let mainRow = 0
    /// The row of asynchronous communication (data-parallel gradient buckets).
    public static let asyncRow = 1

    /// World rank of the recording process (the trace's `pid`).
    public let rank: Int
    public let origin: ContinuousClock.Instant
    private let recorded = Mutex<[TraceSpan]>([])

    public init(rank: Int, origin: ContinuousClock.Instant = ContinuousClock.now) {
        self.rank = rank
        self.origin = origin
    }

    /// Nanoseconds since `origin`.
    public func now() -> Int64 {
        let (seconds, attoseconds) = (ContinuousClock.now - origin).components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// Runs `body` and records it as one span (also when it throws).
    public func record<T>(_ name: String, _ kind: TraceKind, microBatch: Int? = nil, row: Int = mainRow,
                          _ body: () throws -> T) rethrows -> T {
        let start = now()
        defer { add(TraceSpan(name: name, kind: kind, row: row, start: start, duration: now() - start, microBatch: microBatch)) }
        return try body()
    }

    public func add(_ span: TraceSpan) {
        recorded.withLock { $0.append(span) }
    }

    /// Every span so far, sorted by row then start.
    public var spans: [TraceSpan] {
        recorded.withLock { $0 }.sorted { ($0.row, $0.start) < ($1.row, $1.start) }
    }

    /// Fills every gap of the main row within `[from, to]` (nanoseconds since `origin`) with an
    /// idle span, so the row adds up to the interval.
    public func fillIdle(from: Int64, to: Int64) {
        recorded.withLock { spans in
            let main = spans.filter { $0.row == Self.mainRow && $0.end > from && $0.start < to }.sorted { $0.start < $1.start }
            var cursor = from
            var gaps: [TraceSpan] = []
            for span in main {
                if span.start > cursor {
                    gaps.append(TraceSpan(name: "idle", kind: .idle, row: Self.mainRow, start: cursor, duration: span.start - cursor))
                }
                cursor = max(cursor, span.end)
            }
            if to > cursor {
                gaps.append(TraceSpan(name: "idle", kind: .idle, row: Self.mainRow, start: cursor, duration: to - cursor))
            }
            spans.append(contentsOf: gaps)
        }
    }
}
