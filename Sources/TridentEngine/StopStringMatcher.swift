/// Streams text while watching for stop strings: text that might be the start of a stop
/// string is held back until it is known not to be.
struct StopStringMatcher {
    let stopStrings: [String]
    private(set) var emitted = ""
    private var pending = ""

    init(_ stopStrings: [String]) { self.stopStrings = stopStrings.filter { !$0.isEmpty } }

    /// Adds `text`. - Returns: text safe to show now, and whether a stop string was found
    /// (then everything from the stop string on is dropped).
    mutating func append(_ text: String) -> (visible: String, stopped: Bool) {
        pending += text
        // The stop string that starts first in the text ends it (not the first in the list).
        let found = stopStrings.compactMap { pending.range(of: $0)?.lowerBound }.min()
        if let start = found {
            let visible = String(pending[..<start])
            emitted += visible
            pending = ""
            return (visible, true)
        }
        // Hold back the longest suffix of `pending` that is a prefix of some stop string.
        var hold = 0
        for stop in stopStrings {
            for length in stride(from: min(stop.count, pending.count), to: 0, by: -1)
            where pending.hasSuffix(stop.prefix(length)) {
                hold = max(hold, length)
                break
            }
        }
        let cut = pending.index(pending.endIndex, offsetBy: -hold)
        let visible = String(pending[..<cut])
        pending = String(pending[cut...])
        emitted += visible
        return (visible, false)
    }

    /// Releases whatever is held back (generation ended for another reason).
    mutating func finish() -> String {
        let rest = pending
        emitted += rest
        pending = ""
        return rest
    }
}
