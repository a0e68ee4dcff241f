import ArgumentParser
import Foundation
import TridentTraining

/// `trident trace FILE.json --out timeline.svg`: draws a trace-event file as an SVG timeline.
struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Draw a Chrome trace-event file (from --trace) as an SVG timeline: ranks as rows, a colour per kind.",
        discussion: """
            Each rank (pid) is a band: its main row (forward, backward with micro-batch numbers, send, receive, \
            all-reduce, optimizer, idle) and a row per other thread (asynchronous communication). A legend and a \
            time axis in milliseconds frame the picture.
            """)

    @Argument(help: "The trace file (Chrome trace-event JSON).")
    var file: String

    @Option(help: "The SVG file to write.")
    var out: String

    @Option(help: "A title line above the picture.")
    var title: String = ""

    func run() throws {
        let trace: ChromeTrace
        do { trace = try ChromeTrace.read(path: file) } catch let error as TraceFileError {
            throw ExitMessage(error.description)
        }
        let svg = TraceTimelineSVG.render(trace, title: title)
        do { try Data(svg.utf8).write(to: URL(fileURLWithPath: out), options: .atomic) } catch {
            throw ExitMessage("--out '\(out)': cannot write: \(error.localizedDescription)")
        }
        let ranks = Set(trace.events.map(\.pid)).count
        print("\(out): \(trace.events.count) spans on \(ranks) rank\(ranks == 1 ? "" : "s")")
    }
}
