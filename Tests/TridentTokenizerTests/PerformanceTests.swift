import Foundation
import Testing
@testable import TridentTokenizer

@Suite("Tokenizer speed")
struct PerformanceTests {
    /// Best of several runs, in seconds.
    func bestTime(_ runs: Int, _ body: () -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<runs {
            let start = ContinuousClock.now
            body()
            let d = ContinuousClock.now - start
            best = min(best, Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
        }
        return best
    }

    @Test("an 11 KB text encodes well under 100 ms in release")
    func licenseSpeed() throws {
        let text = try String(contentsOf: TestPaths.license, encoding: .utf8)
        #expect(text.utf8.count > 10_000)
        let tok = SmolLM2.tokenizer
        var count = 0
        let seconds = bestTime(3) { count = tok.encode(text).count }
        #expect(count > 2000)
        #if DEBUG
        let limit = 2.0      // unoptimised build: only catch pathological slowness
        #else
        let limit = 0.05
        #endif
        print("encode \(text.utf8.count) bytes -> \(count) tokens: \(String(format: "%.2f", seconds * 1000)) ms")
        #expect(seconds < limit)
    }
}
