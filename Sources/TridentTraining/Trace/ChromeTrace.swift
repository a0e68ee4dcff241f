import Foundation
import TridentCollectives

/// One complete (`"ph":"X"`) event of a Chrome trace-event file, times in microseconds.
public struct ChromeTraceEvent: Sendable, Equatable {
    public var name: String
    public var category: String
    public var pid: Int
    public var tid: Int
    public var start: Double
    public var duration: Double
    public var microBatch: Int?
    /// Bytes a communication event moved (`args.bytes`).
    public var bytes: Int?

    public init(name: String, category: String, pid: Int, tid: Int, start: Double, duration: Double, microBatch: Int? = nil,
                bytes: Int? = nil) {
        self.name = name
        self.category = category
        self.pid = pid
        self.tid = tid
        self.start = start
        self.duration = duration
        self.microBatch = microBatch
        self.bytes = bytes
    }
}

/// A Chrome trace-event document (`{"traceEvents":[...]}`, opens in Perfetto or
/// chrome://tracing): complete events plus process/thread names.
public struct ChromeTrace: Sendable, Equatable {
    public var events: [ChromeTraceEvent]
    /// `pid` -> name ("rank 0").
    public var processNames: [Int: String]
    /// (`pid`, `tid`) -> name ("main", "async communication").
    public var threadNames: [[Int]: String]

    public init(events: [ChromeTraceEvent], processNames: [Int: String] = [:], threadNames: [[Int]: String] = [:]) {
        self.events = events
        self.processNames = processNames
        self.threadNames = threadNames
    }

    /// The spans of every rank (`spans[r]` recorded by world rank `r`) as one document.
    public init(ranks spans: [[TraceSpan]]) {
        var events: [ChromeTraceEvent] = []
        var processes: [Int: String] = [:], threads: [[Int]: String] = [:]
        for (rank, list) in spans.enumerated() {
            processes[rank] = "rank \(rank)"
            for span in list {
                threads[[rank, span.row]] = span.row == TraceRecorder.mainRow ? "main" : "async communication"
                events.append(ChromeTraceEvent(name: span.name, category: span.kind.rawValue, pid: rank, tid: span.row,
                                               start: Double(span.start) / 1000, duration: Double(span.duration) / 1000,
                                               microBatch: span.microBatch, bytes: span.bytes))
            }
        }
        self.init(events: events, processNames: processes, threadNames: threads)
    }

    /// The document as JSON bytes.
    public func encoded() throws -> Data {
        var list: [[String: Any]] = []
        for (pid, name) in processNames.sorted(by: { $0.key < $1.key }) {
            list.append(["name": "process_name", "ph": "M", "pid": pid, "tid": 0, "args": ["name": name]])
        }
        for (key, name) in threadNames.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            list.append(["name": "thread_name", "ph": "M", "pid": key[0], "tid": key[1], "args": ["name": name]])
        }
        for event in events {
            var item: [String: Any] = ["name": event.name, "cat": event.category, "ph": "X", "ts": event.start,
                                       "dur": event.duration, "pid": event.pid, "tid": event.tid]
            var args: [String: Any] = [:]
            if let m = event.microBatch { args["micro_batch"] = m }
            if let b = event.bytes { args["bytes"] = b }
            if !args.isEmpty { item["args"] = args }
            list.append(item)
        }
        return try JSONSerialization.data(withJSONObject: ["traceEvents": list, "displayTimeUnit": "ms"],
                                          options: [.sortedKeys])
    }

    /// Writes the document to `path` atomically (a temporary file renamed into place).
    public func write(to path: String) throws {
        let data = try encoded()
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw TraceFileError(path: path, reason: "cannot write: \(error.localizedDescription)")
        }
    }

    /// Reads a trace-event file: an object with a `traceEvents` array (or a bare array) whose
    /// complete events have a name, numeric non-negative `ts` and `dur`, and integer `pid`/`tid`.
    /// Other phases are skipped, except process/thread names.
    /// - Throws: `TraceFileError` (one line) for unreadable, non-JSON or malformed input.
    public static func read(path: String) throws -> ChromeTrace {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw TraceFileError(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        let root: Any
        do { root = try JSONSerialization.jsonObject(with: data) } catch {
            throw TraceFileError(path: path, reason: "not JSON")
        }
        let items: [Any]
        if let object = root as? [String: Any], let list = object["traceEvents"] as? [Any] { items = list }
        else if let list = root as? [Any] { items = list }
        else { throw TraceFileError(path: path, reason: "expected an object with a \"traceEvents\" array, found neither") }
        var trace = ChromeTrace(events: [])
        for (index, item) in items.enumerated() {
            guard let event = item as? [String: Any], let phase = event["ph"] as? String else {
                throw TraceFileError(path: path, reason: "event \(index): expected an object with a \"ph\" string")
            }
            try trace.add(event, phase: phase, index: index, path: path)
        }
        guard !trace.events.isEmpty else { throw TraceFileError(path: path, reason: "no complete (\"ph\":\"X\") events") }
        return trace
    }

    private mutating func add(_ event: [String: Any], phase: String, index: Int, path: String) throws {
        func integer(_ key: String) throws -> Int {
            guard let n = event[key] as? NSNumber, let v = Int(exactly: n.doubleValue) else {
                throw TraceFileError(path: path, reason: "event \(index): \"\(key)\" must be an integer")
            }
            return v
        }
        func time(_ key: String) throws -> Double {
            guard let n = event[key] as? NSNumber, n.doubleValue.isFinite, n.doubleValue >= 0 else {
                throw TraceFileError(path: path, reason: "event \(index): \"\(key)\" must be a non-negative number")
            }
            return n.doubleValue
        }
        let args = event["args"] as? [String: Any]
        switch phase {
        case "X":
            guard let name = event["name"] as? String else {
                throw TraceFileError(path: path, reason: "event \(index): expected a \"name\" string")
            }
            let micro = (args?["micro_batch"] as? NSNumber).flatMap { Int(exactly: $0.doubleValue) }
            let bytes = (args?["bytes"] as? NSNumber).flatMap { Int(exactly: $0.doubleValue) }
            events.append(ChromeTraceEvent(name: name, category: event["cat"] as? String ?? "", pid: try integer("pid"),
                                           tid: try integer("tid"), start: try time("ts"), duration: try time("dur"),
                                           microBatch: micro, bytes: bytes))
        case "M":
            guard let label = args?["name"] as? String else { return }
            if event["name"] as? String == "process_name" { processNames[try integer("pid")] = label }
            if event["name"] as? String == "thread_name" { threadNames[[try integer("pid"), try integer("tid")]] = label }
        default:
            return
        }
    }
}

/// A trace file that cannot be read or written; one line.
public struct TraceFileError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let reason: String
    public var description: String { "trace file '\(path)': \(reason)" }
}
