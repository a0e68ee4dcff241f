import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// `trident train --trace` and `trident trace` driven as a user would.
@Suite("trident train --trace, trident trace", .serialized,
       .enabled(if: CLIPaths.binary != nil && FileManager.default.fileExists(atPath: CLIPaths.license),
                "needs a built trident and models/LICENSE.txt"))
struct TraceCLITests {
    @Test("train --pp 2 --backend tcp --trace writes one trace of both ranks; trace --out draws it; bad input refused")
    func trainTraceAndPicture() throws {
        try withTemporaryDirectory { directory in
            let trace = directory.appendingPathComponent("t.json").path, svg = directory.appendingPathComponent("t.svg").path
            let run = try TrainCLITests.train(CLIPaths.tinyModel("f32"),
                                              ["--pp", "2", "--backend", "tcp", "--accumulate", "2", "--trace", trace],
                                              steps: 2, microBatch: 1)
            #expect(run.result.status == 0, "\(run.result.transcript)")
            let root = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: trace))) as? [String: Any]
            let events = (root?["traceEvents"] as? [[String: Any]] ?? []).filter { $0["ph"] as? String == "X" }
            #expect(Set(events.compactMap { $0["pid"] as? Int }) == [0, 1])
            for rank in 0..<2 {
                let forwards = events.filter { $0["pid"] as? Int == rank && $0["cat"] as? String == "forward" }
                #expect(forwards.count == 4, "rank \(rank): 2 steps x 2 micro-batches, found \(forwards.count)")
            }
            let seconds = run.steps.compactMap { ($0["seconds"] as? NSNumber)?.doubleValue }.reduce(0, +)
            let main = events.filter { $0["pid"] as? Int == 0 && $0["tid"] as? Int == 0 }
                .compactMap { ($0["dur"] as? NSNumber)?.doubleValue }.reduce(0, +) / 1e6
            if seconds > 0 { #expect(abs(main - seconds) <= 0.05 * seconds, "main row \(main) s vs steps \(seconds) s") }

            let draw = try runCLI(["trace", trace, "--out", svg])
            #expect(draw.status == 0, "\(draw.transcript)")
            let picture = try String(contentsOfFile: svg, encoding: .utf8)
            #expect(XMLParser(data: Data(picture.utf8)).parse())
            #expect(picture.components(separatedBy: "class=\"rank\"").count - 1 == 2)

            let bad = directory.appendingPathComponent("bad.json").path
            try Data("{\"traceEvents\": 3}".utf8).write(to: URL(fileURLWithPath: bad))
            let refused = try runCLI(["trace", bad, "--out", svg])
            #expect(refused.status != 0 && refused.stderr.contains("traceEvents"), "\(refused.transcript)")
            #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.transcript)")
        }
    }
}
