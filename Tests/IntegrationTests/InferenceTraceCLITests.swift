import Foundation
import Testing

/// `--trace FILE` on `generate` and `bench model`: the file is Chrome trace-event JSON with one
/// process per rank, prefill/decode/block spans and every collective with its bytes, spans of
/// a row nest strictly (a child lies inside its parent, siblings do not overlap).
@Suite("--trace on generate and bench model", .serialized,
       .enabled(if: CLIPaths.binary != nil, "needs a built trident"))
struct InferenceTraceCLITests {
    /// A complete (`"ph":"X"`) event.
    struct Span {
        var name: String, category: String, pid: Int, tid: Int, start: Double, end: Double, bytes: Int?
    }

    /// The document's complete events and its process names; records an issue for anything that
    /// is not trace-event JSON.
    static func read(_ path: String) throws -> (spans: [Span], processes: [Int: String]) {
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        let events = (root as? [String: Any])?["traceEvents"] as? [[String: Any]] ?? []
        #expect(!events.isEmpty, "no traceEvents array")
        var spans: [Span] = [], processes: [Int: String] = [:]
        for event in events {
            let phase = event["ph"] as? String, args = event["args"] as? [String: Any]
            guard let pid = event["pid"] as? Int, let tid = event["tid"] as? Int, let name = event["name"] as? String else {
                Issue.record("event without integer pid/tid or name: \(event)")
                continue
            }
            if phase == "M", name == "process_name" { processes[pid] = args?["name"] as? String }
            guard phase == "X" else { continue }
            guard let ts = (event["ts"] as? NSNumber)?.doubleValue, let dur = (event["dur"] as? NSNumber)?.doubleValue,
                  ts >= 0, dur >= 0 else {
                Issue.record("complete event without non-negative ts/dur: \(event)")
                continue
            }
            spans.append(Span(name: name, category: event["cat"] as? String ?? "", pid: pid, tid: tid, start: ts,
                              end: ts + dur, bytes: args?["bytes"] as? Int))
        }
        return (spans, processes)
    }

    /// Per (pid, tid): sorted by start (longer first), every span either starts at or after the
    /// enclosing span's end or ends within it, within 1 ns (times are nanoseconds written as
    /// microseconds, so `ts + dur` may round past the next span's `ts`). - Returns: the offending pairs.
    static func badNesting(_ spans: [Span]) -> [String] {
        var problems: [String] = []
        for (_, row) in Dictionary(grouping: spans, by: { [$0.pid, $0.tid] }) {
            var open: [Span] = []
            for span in row.sorted(by: { ($0.start, -$0.end) < ($1.start, -$1.end) }) {
                while let top = open.last, top.end <= span.start + 1e-3 { open.removeLast() }
                if let top = open.last, span.end > top.end + 1e-3 {
                    problems.append("\(span.name) [\(span.start), \(span.end)] overlaps \(top.name) [\(top.start), \(top.end)] on pid \(span.pid) tid \(span.tid)")
                }
                open.append(span)
            }
        }
        return problems
    }

    /// Runs `arguments + --trace FILE`; returns the parsed file after checking the run, the
    /// process per rank and the nesting.
    static func traced(_ arguments: [String], ranks: Int) throws -> [Span] {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("trace.json").path
            let result = try runCLI(arguments + ["--trace", path], timeout: 300)
            #expect(result.status == 0, "\(result.transcript)")
            #expect(result.stderr.contains("trace: \(path)"), "\(result.stderr)")
            let (spans, processes) = try read(path)
            #expect(processes == Dictionary(uniqueKeysWithValues: (0..<ranks).map { ($0, "rank \($0)") }), "\(processes)")
            #expect(Set(spans.map(\.pid)) == Set(0..<ranks))
            let problems = badNesting(spans)
            #expect(problems.isEmpty, "\(problems.prefix(5))")
            for rank in 0..<ranks {
                let mine = spans.filter { $0.pid == rank }
                #expect(mine.contains { $0.category == "prefill" }, "rank \(rank) has no prefill span")
                #expect(mine.contains { $0.category == "decode" }, "rank \(rank) has no decode span")
                #expect(mine.contains { $0.category == "block" }, "rank \(rank) has no block span")
                // Every decode step's blocks lie inside it.
                if let decode = mine.first(where: { $0.category == "decode" }) {
                    #expect(mine.contains { $0.category == "block" && $0.start >= decode.start && $0.end <= decode.end })
                }
            }
            return spans
        }
    }

    static func bench(_ extra: [String]) -> [String] {
        ["bench", "model", "--model", CLIPaths.tinyModel("q8_0"), "--prompt-tokens", "8", "--decode-tokens", "4",
         "--prompts", "2", "--repetitions", "1"] + extra
    }

    @Test("bench model --tp 2 (threads): both ranks have all-reduce spans with bytes inside their blocks")
    func tensorParallel() throws {
        let spans = try Self.traced(Self.bench(["--tp", "2"]), ranks: 2)
        for rank in 0..<2 {
            let reduces = spans.filter { $0.pid == rank && $0.category == "all-reduce" }
            #expect(reduces.count >= 2 && reduces.allSatisfy { ($0.bytes ?? 0) > 0 }, "rank \(rank): \(reduces.count)")
            let blocks = spans.filter { $0.pid == rank && $0.category == "block" }
            #expect(reduces.contains { r in blocks.contains { $0.start <= r.start && r.end <= $0.end } })
        }
        // Both ranks run the same collectives: as many all-reduces of the same sizes.
        let sizes = (0..<2).map { rank in spans.filter { $0.pid == rank && $0.category == "all-reduce" }.compactMap(\.bytes).sorted() }
        #expect(sizes[0] == sizes[1])
    }

    @Test("bench model --pp 2 over TCP: rank 0 sends and rank 1 receives the same activation bytes; micro-batch spans")
    func pipelineParallel() throws {
        let spans = try Self.traced(Self.bench(["--pp", "2", "--backend", "tcp"]), ranks: 2)
        let sent = spans.filter { $0.pid == 0 && $0.category == "send" && $0.name.hasPrefix("send to 1 ") }.compactMap(\.bytes)
        let received = spans.filter { $0.pid == 1 && $0.category == "receive" && $0.name.hasPrefix("receive from 0 ") }.compactMap(\.bytes)
        #expect(!sent.isEmpty && sent.allSatisfy { $0 > 0 })
        // The pipeline group's frames; rank 1 also receives the driver's commands (broadcasts).
        #expect(Set(sent).isSubset(of: Set(received)), "sent \(sent) received \(received)")
        #expect(spans.contains { $0.pid == 1 && $0.category == "forward" && $0.name.hasPrefix("micro-batch") })
    }

    @Test("bench model --dp 2 (threads): one process per replica, each with its own steps")
    func dataParallel() throws {
        let spans = try Self.traced(Self.bench(["--dp", "2"]), ranks: 2)
        #expect(spans.contains { $0.pid == 1 && $0.category == "collective" && $0.name.hasPrefix("broadcast") })
    }

    @Test("generate --tp 2 on SmolLM2: all-reduce spans on both ranks, one prefill and a decode span per new token",
          .enabled(if: CLIPaths.smolLM2Available, "needs the SmolLM2 model"))
    func generateTensorParallel() throws {
        let spans = try Self.traced(["generate", "--model", CLIPaths.smolLM2, "--prompt", "The capital of France is",
                                     "-n", "4", "--tp", "2"], ranks: 2)
        for rank in 0..<2 {
            #expect(spans.contains { $0.pid == rank && $0.category == "all-reduce" && ($0.bytes ?? 0) > 0 })
            #expect(spans.filter { $0.pid == rank && $0.category == "prefill" }.count == 1)
            #expect(spans.filter { $0.pid == rank && $0.category == "decode" }.count >= 3)
        }
    }

    @Test("--trace into a missing directory is refused with one line before any rank starts")
    func badPath() throws {
        let result = try runCLI(Self.bench(["--trace", "/nonexistent-dir-\(UUID())/t.json"]))
        #expect(result.status != 0 && result.stderr.contains("--trace"), "\(result.transcript)")
    }
}
