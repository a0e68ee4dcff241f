import Foundation

/// Draws a Chrome trace as an SVG timeline: one band per rank (`pid`), one row per thread
/// (`tid`) in it, a rectangle per complete event coloured by its category, micro-batch
/// numbers on the spans wide enough to hold them, a legend and a time axis.
public enum TraceTimelineSVG {
    /// Fill colour per category (`TraceKind` raw values); others are grey.
    public static let colours: [String: String] = [
        "forward": "#4c78a8", "backward": "#f58518", "compute": "#72b7b2", "send": "#54a24b", "receive": "#88d27a",
        "all-reduce": "#b279a2", "optimizer": "#e45756", "idle": "#e8e8e8",
        "prefill": "#4c78a8", "decode": "#9ecae9", "block": "#72b7b2", "collective": "#d6a5c9",
    ]

    static let width = 1200.0, labelWidth = 150.0, rightMargin = 20.0
    static let legendHeight = 40.0, mainRowHeight = 34.0, otherRowHeight = 18.0, bandGap = 8.0, axisHeight = 34.0

    /// The SVG document of `trace` (a `title` line above the legend).
    public static func render(_ trace: ChromeTrace, title: String = "") -> String {
        let events = trace.events
        let t0 = events.map(\.start).min() ?? 0
        let t1 = events.map { $0.start + $0.duration }.max() ?? 1
        let span = max(t1 - t0, 1e-9)
        let plotWidth = width - labelWidth - rightMargin
        func x(_ t: Double) -> Double { labelWidth + (t - t0) / span * plotWidth }
        var body: [String] = []
        var y = legendHeight + (title.isEmpty ? 0 : 18)
        let pids = Set(events.map(\.pid)).sorted()
        for pid in pids {
            let mine = events.filter { $0.pid == pid }
            let tids = Set(mine.map(\.tid)).sorted()
            body.append("<g class=\"rank\" data-pid=\"\(pid)\">")
            body.append(text(8, y + 14, escape(trace.processNames[pid] ?? "rank \(pid)"), size: 13, bold: true))
            for (index, tid) in tids.enumerated() {
                let height = index == 0 ? mainRowHeight : otherRowHeight
                if index > 0 || tids.count > 1 {
                    let label = trace.threadNames[[pid, tid]] ?? "tid \(tid)"
                    body.append(text(8, y + height - 4, escape(label), size: 10))
                }
                for event in mine where event.tid == tid {
                    body.append(rectangle(event, x: x(event.start), width: event.duration / span * plotWidth, y: y, height: height))
                }
                y += height + 2
            }
            body.append("</g>")
            y += bandGap
        }
        body.append(contentsOf: axis(y: y, duration: span, plotWidth: plotWidth))
        let height = y + axisHeight
        var header = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\">",
                      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>"]
        if !title.isEmpty { header.append(text(8, 16, escape(title), size: 14, bold: true)) }
        header.append(contentsOf: legend(categories: Set(events.map(\.category)), y: title.isEmpty ? 8 : 26))
        return (header + body + ["</svg>"]).joined(separator: "\n") + "\n"
    }

    private static func rectangle(_ event: ChromeTraceEvent, x: Double, width: Double, y: Double, height: Double) -> String {
        let fill = colours[event.category] ?? "#bab0ac"
        let tip = escape("\(event.name)\(event.microBatch.map { " mb \($0)" } ?? "") \(format(event.duration / 1000)) ms")
        var s = "<rect x=\"\(format(x))\" y=\"\(format(y))\" width=\"\(format(max(width, 0.3)))\" height=\"\(format(height))\" fill=\"\(fill)\"><title>\(tip)</title></rect>"
        let compute = ["forward", "backward", "compute"].contains(event.category)
        if compute, let m = event.microBatch, width >= 9 {
            let size = min(12, height * 0.45)
            s += "\n" + text(x + width / 2, y + height / 2 + size * 0.35, "\(m)", size: size, anchor: "middle", fill: "white")
        }
        return s
    }

    private static func legend(categories: Set<String>, y: Double) -> [String] {
        let known = ["forward", "backward", "compute", "send", "receive", "all-reduce", "optimizer", "idle"]
        let shown = known.filter(categories.contains) + categories.subtracting(known).sorted()
        var x = labelWidth, out: [String] = []
        for category in shown {
            out.append("<rect x=\"\(format(x))\" y=\"\(format(y))\" width=\"14\" height=\"14\" fill=\"\(colours[category] ?? "#bab0ac")\" stroke=\"#999\" stroke-width=\"0.5\"/>")
            out.append(text(x + 18, y + 12, escape(category), size: 12))
            x += 26 + Double(category.count) * 7.5
        }
        return out
    }

    /// A time axis under the rows: about 8 ticks at a round step, labelled in ms.
    private static func axis(y: Double, duration: Double, plotWidth: Double) -> [String] {
        let milliseconds = duration / 1000
        let raw = milliseconds / 8
        let magnitude = pow(10, floor(log10(max(raw, 1e-6))))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        var out = ["<line x1=\"\(format(labelWidth))\" y1=\"\(format(y))\" x2=\"\(format(labelWidth + plotWidth))\" y2=\"\(format(y))\" stroke=\"black\"/>"]
        var t = 0.0
        while t <= milliseconds + step * 1e-9 {
            let x = labelWidth + t / milliseconds * plotWidth
            out.append("<line x1=\"\(format(x))\" y1=\"\(format(y))\" x2=\"\(format(x))\" y2=\"\(format(y + 5))\" stroke=\"black\"/>")
            out.append(text(x, y + 18, step >= 1 ? String(format: "%.0f", t) : String(format: "%g", t), size: 11, anchor: "middle"))
            t += step
        }
        out.append(text(labelWidth + plotWidth, y + 31, "time (ms)", size: 11, anchor: "end"))
        return out
    }

    private static func text(_ x: Double, _ y: Double, _ content: String, size: Double, bold: Bool = false,
                             anchor: String = "start", fill: String = "black") -> String {
        "<text x=\"\(format(x))\" y=\"\(format(y))\" font-size=\"\(format(size))\" text-anchor=\"\(anchor)\" fill=\"\(fill)\"\(bold ? " font-weight=\"bold\"" : "")>\(content)</text>"
    }

    private static func format(_ value: Double) -> String { String(format: "%.1f", value) }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
