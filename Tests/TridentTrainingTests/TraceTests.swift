import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import TridentCollectives
import TridentKernels
import TridentModel
@testable import TridentTraining

/// A traced training run on threads: the trace file world rank 0 wrote, and each rank's step times.
struct TracedRun: Sendable {
    var path: String
    var stepSeconds: [[Double]]   // [rank][step]
}

/// Runs `configuration.steps` steps at PP `pp` (x DP `dp`) with tracing; rank 0 writes `path`.
func runTraced(pp: Int, dp: Int = 1, schedule: PipelineTrainingSchedule, _ configuration: TrainingConfiguration,
               path: String) throws -> TracedRun {
    let model = PipelineTrainingTests.model()
    let layout = try ParallelLayout(tensor: 1, pipeline: pp, data: dp)
    let partition = try StagePartition.balanced(configuration: model, stages: pp)
    let seconds = try LocalCommunicator.run(size: layout.worldSize) { world -> [Double] in
        let groups = try ProcessGroups.make(world: world, layout: layout)
        let pool = ThreadPool(threadCount: 1)
        let stage = try LlamaTrainingModel(configuration: model, source: .random(seed: 3), group: groups.tensor, pool: pool,
                                           stage: TrainingStage.stage(groups.coordinates.pipeline, of: partition.ranges))
        let session = try TrainingSession(model: stage, groups: groups, configuration: configuration,
                                          tokens: PipelineTrainingTests.tokens, pool: pool, pipelineSchedule: schedule)
        try world.barrier()
        session.trace = TraceRecorder(rank: world.rank)
        var times: [Double] = []
        while session.completedSteps < configuration.steps { times.append(try session.step().seconds) }
        try TraceGathering.write(session.trace!, over: world, to: path)
        return times
    }
    return TracedRun(path: path, stepSeconds: seconds)
}

/// The file's complete events (every event must be "X" or metadata "M").
func completeEvents(_ path: String) throws -> [[String: Any]] {
    let root = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
    let events = try #require(root?["traceEvents"] as? [[String: Any]])
    #expect(events.allSatisfy { ["X", "M"].contains($0["ph"] as? String ?? "") })
    return events.filter { $0["ph"] as? String == "X" }
}

@Suite("Training timeline (--trace)")
struct TraceTests {
    @Test("PP 2 trace: valid events, rows without overlap, main rows add up to the step time, F and B per micro-batch",
          arguments: [PipelineTrainingSchedule.gpipe, .oneFOneB])
    func pipelineTrace(schedule: PipelineTrainingSchedule) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("trace-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let configuration = try PipelineTrainingTests.configuration(accumulate: 4, steps: 2)
        let run = try runTraced(pp: 2, schedule: schedule, configuration, path: path)
        let events = try completeEvents(path)
        #expect(Set(events.map { $0["pid"] as? Int ?? -1 }) == [0, 1])
        var rows: [[Int]: [(Double, Double)]] = [:]
        for event in events {
            let ts = try #require(event["ts"] as? NSNumber).doubleValue, dur = try #require(event["dur"] as? NSNumber).doubleValue
            #expect(ts >= 0 && dur >= 0, "\(event)")
            let pid = try #require(event["pid"] as? NSNumber).intValue, tid = try #require(event["tid"] as? NSNumber).intValue
            rows[[pid, tid], default: []].append((ts, dur))
        }
        for (row, spans) in rows {
            let sorted = spans.sorted { $0.0 < $1.0 }
            for (a, b) in zip(sorted, sorted.dropFirst()) {
                // 1 ns of slack: ts and dur are rounded nanoseconds written as microseconds.
                #expect(a.0 + a.1 <= b.0 + 1e-3, "row \(row): [\(a.0), +\(a.1)) overlaps [\(b.0), +\(b.1))")
            }
        }
        for rank in 0..<2 {
            let main = try #require(rows[[rank, TraceRecorder.mainRow]])
            let total = main.reduce(0) { $0 + $1.1 } / 1e6, wall = run.stepSeconds[rank].reduce(0, +)
            #expect(abs(total - wall) <= 0.05 * wall, "rank \(rank): main row \(total) s vs steps \(wall) s")
            let busy = events.filter { $0["pid"] as? Int == rank && $0["cat"] as? String != "idle" }
            for kind in ["forward", "backward"] {
                let micro = busy.filter { $0["cat"] as? String == kind }.compactMap { ($0["args"] as? [String: Any])?["micro_batch"] as? Int }
                // Two steps, each micro-batch once per step.
                #expect(micro.sorted() == [0, 0, 1, 1, 2, 2, 3, 3], "rank \(rank) \(kind): \(micro.sorted())")
            }
            let sends = busy.filter { $0["cat"] as? String == "send" }.count
            #expect(sends == 8, "rank \(rank): \(sends) sends, expected 4 per step")
            #expect(busy.contains { $0["cat"] as? String == "optimizer" } && busy.contains { $0["cat"] as? String == "all-reduce" })
        }
        try expectSVG(path, ranks: 2)
    }

    @Test("PP 2 x DP 2: gradient buckets on their own async row, which never overlaps itself")
    func asyncRow() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("trace-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var configuration = try PipelineTrainingTests.configuration(accumulate: 2, steps: 1)
        configuration.bucketBytes = 4096
        _ = try runTraced(pp: 2, dp: 2, schedule: .oneFOneB, configuration, path: path)
        let events = try completeEvents(path)
        for rank in 0..<4 {
            let buckets = events.filter { $0["pid"] as? Int == rank && $0["tid"] as? Int == TraceRecorder.asyncRow }
            #expect(!buckets.isEmpty && buckets.allSatisfy { $0["cat"] as? String == "all-reduce" }, "rank \(rank)")
        }
        try expectSVG(path, ranks: 4)
    }

    /// The SVG of `path` parses as XML and has one `<g class="rank">` per rank.
    func expectSVG(_ path: String, ranks: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let svg = TraceTimelineSVG.render(try ChromeTrace.read(path: path), title: "test")
        let counter = ElementCounter()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = counter
        #expect(parser.parse(), "SVG is not well-formed: \(parser.parserError.map { "\($0)" } ?? "")", sourceLocation: sourceLocation)
        #expect(counter.rankGroups == ranks, sourceLocation: sourceLocation)
        #expect(counter.rectangles > 10 && counter.texts > 0, sourceLocation: sourceLocation)
    }

    @Test("a file that is not JSON, not trace events, or has a negative duration is refused with one line")
    func badFiles() throws {
        let directory = FileManager.default.temporaryDirectory
        for (content, reason) in [("not json {", "not JSON"), ("{\"events\":[]}", "traceEvents"),
                                  ("{\"traceEvents\":[{\"ph\":\"X\",\"name\":\"f\",\"ts\":0,\"dur\":-1,\"pid\":0,\"tid\":0}]}", "\"dur\""),
                                  ("{\"traceEvents\":[]}", "no complete")] {
            let path = directory.appendingPathComponent("bad-\(UUID().uuidString).json").path
            try Data(content.utf8).write(to: URL(fileURLWithPath: path))
            defer { try? FileManager.default.removeItem(atPath: path) }
            let error = #expect(throws: TraceFileError.self) { _ = try ChromeTrace.read(path: path) }
            let text = error.map { "\($0)" } ?? ""
            #expect(text.contains(reason) && !text.contains("\n"), "\(content): \(text)")
        }
    }

    @Test("idle filling: gaps between spans and at both ends become idle spans, the row adds up to the interval")
    func idleFilling() {
        let recorder = TraceRecorder(rank: 0)
        recorder.add(TraceSpan(name: "forward", kind: .forward, row: 0, start: 10, duration: 5, microBatch: 0))
        recorder.add(TraceSpan(name: "send", kind: .send, row: 0, start: 20, duration: 5))
        recorder.add(TraceSpan(name: "bucket", kind: .allReduce, row: 1, start: 0, duration: 100))
        recorder.fillIdle(from: 0, to: 40)
        let idle = recorder.spans.filter { $0.kind == .idle }.map { [$0.start, $0.duration] }
        #expect(idle == [[0, 10], [15, 5], [25, 15]])
        #expect(recorder.spans.filter { $0.row == 0 }.reduce(0) { $0 + $1.duration } == 40)
    }
}

/// Counts the elements of an SVG.
final class ElementCounter: NSObject, XMLParserDelegate {
    var rankGroups = 0, rectangles = 0, texts = 0
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if name == "g" && attributes["class"] == "rank" { rankGroups += 1 }
        if name == "rect" { rectangles += 1 }
        if name == "text" { texts += 1 }
    }
}
