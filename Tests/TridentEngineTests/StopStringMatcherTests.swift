import Testing
@testable import TridentEngine

@Suite("StopStringMatcher")
struct StopStringMatcherTests {
    /// Feeds `pieces` one by one. - Returns: the visible text in order, and whether it stopped.
    static func feed(_ pieces: [String], stops: [String]) -> (shown: [String], stopped: Bool, matcher: StopStringMatcher) {
        var matcher = StopStringMatcher(stops)
        var shown: [String] = []
        for piece in pieces {
            let (visible, stopped) = matcher.append(piece)
            shown.append(visible)
            if stopped { return (shown, true, matcher) }
        }
        shown.append(matcher.finish())
        return (shown, false, matcher)
    }

    @Test("a stop string split over pieces is found; the text before it is shown, it and the rest are not")
    func splitStop() {
        let (shown, stopped, matcher) = Self.feed(["Hel", "lo E", "N", "D tail", "never"], stops: ["END"])
        #expect(stopped)
        #expect(shown.joined() == "Hello ")
        #expect(matcher.emitted == "Hello ")
        // "E" and "EN" are held back while they might start "END".
        #expect(shown == ["Hel", "lo ", "", "" ])
    }

    @Test("a held-back prefix that does not become a stop string is released, in order")
    func releasedPrefix() {
        let (shown, stopped, matcher) = Self.feed(["ab", "E", "Nx", "yE"], stops: ["END"])
        #expect(!stopped)
        #expect(shown.joined() == "abENxyE")
        #expect(matcher.emitted == "abENxyE")
        #expect(shown.last == "E")  // released only by finish()
    }

    @Test("the earliest of several stop strings wins; empty stop strings are ignored")
    func severalStops() {
        let (shown, stopped, _) = Self.feed(["one two three"], stops: ["", "three", "two"])
        #expect(stopped)
        #expect(shown.joined() == "one ")
    }
}
